import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PdfError } from '../errors.js';
import type { Box, IncrementalUpdate, PageInfo } from '../syntax/index.js';
import {
  decodePng,
  dict,
  formatNumber,
  name,
  type PdfDict,
  type PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from '../syntax/index.js';
import { layoutText, parseTrueType, subsetFont, type TrueTypeFont } from './font.js';

// Visible signatures as Decree 30/2020 describes them: the leader's signature image, the organization
// seal over it, or a text stamp top-right of page 1. Each becomes a Form XObject that the signature
// widget shows as its normal appearance (/AP /N).

/** x, y, width, height in points from the bottom-left of the page as shown (CropBox turned by /Rotate). */
export type AppearanceRect = [number, number, number, number];

/** What a visible signature shows; without one the signature is invisible. */
export type SignatureAppearance =
  /** The leader's signature image (transparent PNG, blue), scaled to fit the rect, aspect kept. */
  | { kind: 'image'; png: Uint8Array; page: number; rect: AppearanceRect }
  /** The organization seal (transparent PNG, red) at actual size: the caller sizes the rect. */
  | { kind: 'seal'; png: Uint8Array; page: number; rect: AppearanceRect }
  /** No image: black text in an embedded TrueType font, top-right of page 1. */
  | { kind: 'stamp'; text: string; font: Uint8Array; size?: number };

/** The widget's placement and appearance stream, written into an update. */
export interface AppearanceWidget {
  rect: Box;
  normal: PdfRef;
}

/** Distance of the stamp from the top and right edges, in points (about 7 mm). */
const STAMP_MARGIN = 20;
/** Room between the stamp's text and its rectangle, in points. */
const STAMP_PADDING = 2;
const MAX_STAMP_TEXT = 256;

function badInput(message: string): never {
  throw new PdfError('bad-input', message);
}

/** The 1-based page an appearance goes on (-1 is the last page; stamps always go on page 1). */
export function appearancePage(appearance: SignatureAppearance, pageCount: number): number {
  if (appearance.kind === 'stamp') return 1;
  const { page } = appearance;
  if (page === -1) return pageCount;
  if (!Number.isInteger(page) || page < 1 || page > pageCount)
    badInput(`appearance page must be from 1 to ${pageCount}, or -1 for the last page`);
  return page;
}

/** Writes the appearance's objects into the update; returns the widget's /Rect and /AP /N. */
export function addAppearance(
  update: IncrementalUpdate,
  appearance: SignatureAppearance,
  page: PageInfo,
): AppearanceWidget {
  const view = pageView(page);
  switch (appearance.kind) {
    case 'image':
    case 'seal':
      return imageAppearance(update, appearance.png, view, checkRect(appearance.rect, view));
    case 'stamp':
      return stampAppearance(update, appearance, view);
    default:
      return badInput('appearance kind must be image, seal or stamp');
  }
}

/**
 * The page as a reader sees it: the CropBox turned by /Rotate. Rects are given in this view, so a
 * landscape page rotated 90° takes coordinates as displayed, and appearances are drawn upright.
 */
export interface PageView {
  width: number;
  height: number;
  /** The view's rect [x, y, w, h] as a /Rect in default user space. */
  toUser(rect: AppearanceRect): Box;
  /** The inverse: a box in default user space as a rect [x, y, w, h] in the view. */
  toView(box: Box): AppearanceRect;
  /** The Form XObject /Matrix that turns the drawing with the page, when the page is rotated. */
  matrix?: number[];
}

/** How a page is shown: its CropBox turned by /Rotate. */
export function pageView(page: PageInfo): PageView {
  const [x0, y0, x1, y1] = page.cropBox;
  const W = x1 - x0;
  const H = y1 - y0;
  const rotate = ((page.rotate % 360) + 360) % 360;
  switch (rotate) {
    case 0:
      return {
        width: W,
        height: H,
        toUser: ([x, y, w, h]) => [x0 + x, y0 + y, x0 + x + w, y0 + y + h],
        toView: ([a, b, c, d]) => [a - x0, b - y0, c - a, d - b],
      };
    // Shown turned clockwise: the view's (X, Y) is user space (W − Y, X), relative to the CropBox.
    case 90:
      return {
        width: H,
        height: W,
        toUser: ([x, y, w, h]) => [x0 + W - y - h, y0 + x, x0 + W - y, y0 + x + w],
        toView: ([a, b, c, d]) => [b - y0, x0 + W - c, d - b, c - a],
        matrix: [0, 1, -1, 0, 0, 0],
      };
    case 180:
      return {
        width: W,
        height: H,
        toUser: ([x, y, w, h]) => [x0 + W - x - w, y0 + H - y - h, x0 + W - x, y0 + H - y],
        toView: ([a, b, c, d]) => [x0 + W - c, y0 + H - d, c - a, d - b],
        matrix: [-1, 0, 0, -1, 0, 0],
      };
    case 270:
      return {
        width: H,
        height: W,
        toUser: ([x, y, w, h]) => [x0 + y, y0 + H - x - w, x0 + y + h, y0 + H - x],
        toView: ([a, b, c, d]) => [y0 + H - d, a - x0, d - b, c - a],
        matrix: [0, -1, 1, 0, 0, 0],
      };
    default:
      throw new PdfError('bad-structure', `page /Rotate ${page.rotate} is not a multiple of 90`);
  }
}

/** Checks a caller's rect: finite, not empty, and on the page's visible area. */
function checkRect(rect: AppearanceRect, view: PageView): AppearanceRect {
  if (
    !Array.isArray(rect) ||
    rect.length !== 4 ||
    !rect.every((n) => typeof n === 'number' && Number.isFinite(n))
  )
    badInput('appearance rect must be four finite numbers: x, y, width, height');
  const [x, y, w, h] = rect;
  if (w <= 0 || h <= 0) badInput('appearance rect must have a positive width and height');
  // Half a point of slack for callers that round.
  if (x < -0.5 || y < -0.5 || x + w > view.width + 0.5 || y + h > view.height + 0.5)
    badInput('appearance rect must lie within the page');
  return rect;
}

/** The widget for a Form XObject of the rect's size, turned with the page, showing the given content. */
function widgetFor(
  update: IncrementalUpdate,
  view: PageView,
  rect: AppearanceRect,
  resources: PdfDict,
  content: string,
): AppearanceWidget {
  const ref = update.newRef();
  const stream = new PdfStream(
    dict({
      Type: name('XObject'),
      Subtype: name('Form'),
      BBox: [0, 0, rect[2], rect[3]],
      Matrix: view.matrix,
      Resources: resources,
    }),
    new Uint8Array(Buffer.from(content, 'latin1')),
  );
  update.set(ref, stream);
  return { rect: view.toUser(rect), normal: ref };
}

const n = formatNumber;

function imageAppearance(
  update: IncrementalUpdate,
  png: Uint8Array,
  view: PageView,
  rect: AppearanceRect,
): AppearanceWidget {
  if (!(png instanceof Uint8Array)) badInput('appearance png must be bytes');
  const img = decodePng(png);
  const image = (colorSpace: string, data: Uint8Array, smask?: PdfRef) => {
    const ref = update.newRef();
    update.set(
      ref,
      new PdfStream(
        dict({
          Type: name('XObject'),
          Subtype: name('Image'),
          Width: img.width,
          Height: img.height,
          ColorSpace: name(colorSpace),
          BitsPerComponent: 8,
          Filter: name('FlateDecode'),
          SMask: smask,
        }),
        new Uint8Array(deflateSync(data)),
      ),
    );
    return ref;
  };
  // Transparency through a soft mask (PDF 1.4), which every current viewer honours.
  const smask = img.alpha ? image('DeviceGray', img.alpha) : undefined;
  const imageRef = image(img.colorSpace, img.pixels, smask);
  const [, , w, h] = rect;
  const scale = Math.min(w / img.width, h / img.height);
  const dw = img.width * scale;
  const dh = img.height * scale;
  const content = `q ${n(dw)} 0 0 ${n(dh)} ${n((w - dw) / 2)} ${n((h - dh) / 2)} cm /Im0 Do Q\n`;
  const resources = dict({ XObject: dict({ Im0: imageRef }) });
  return widgetFor(update, view, rect, resources, content);
}

function stampAppearance(
  update: IncrementalUpdate,
  stamp: Extract<SignatureAppearance, { kind: 'stamp' }>,
  view: PageView,
): AppearanceWidget {
  if (typeof stamp.text !== 'string' || !stamp.text || stamp.text.length > MAX_STAMP_TEXT)
    badInput(`stamp text must be 1–${MAX_STAMP_TEXT} characters`);
  if (!(stamp.font instanceof Uint8Array)) badInput('stamp font must be the bytes of a TrueType file');
  const size = stamp.size ?? 10;
  if (typeof size !== 'number' || !(size >= 4 && size <= 72))
    badInput('stamp size must be from 4 to 72 points');
  const font = parseTrueType(stamp.font);
  const layout = layoutText(font, stamp.text);
  const em = size / font.unitsPerEm;
  const width = layout.advance * em + 2 * STAMP_PADDING;
  const height = (font.ascent - font.descent) * em + 2 * STAMP_PADDING;
  if (width + 2 * STAMP_MARGIN > view.width || height + 2 * STAMP_MARGIN > view.height)
    badInput('the stamp text does not fit on the first page');
  const rect: AppearanceRect = [
    view.width - STAMP_MARGIN - width,
    view.height - STAMP_MARGIN - height,
    width,
    height,
  ];
  const hex = layout.glyphs.map((g) => g.toString(16).padStart(4, '0')).join('');
  const baseline = STAMP_PADDING - font.descent * em;
  const content = `0 g BT /F0 ${n(size)} Tf ${n(STAMP_PADDING)} ${n(baseline)} Td <${hex}> Tj ET\n`;
  const fontRef = embedFont(update, font, layout.glyphs, layout.chars);
  return widgetFor(update, view, rect, dict({ Font: dict({ F0: fontRef }) }), content);
}

const latin1 = (s: string) => new PdfString(new Uint8Array(Buffer.from(s, 'latin1')));

/** Where new objects go: an incremental update, or a whole new file such as the PDF report. */
export interface ObjectSink {
  newRef(): PdfRef;
  set(ref: PdfRef, value: PdfValue): void;
}

/**
 * Embeds the font, cut down to the glyphs used, as a Type0/CIDFontType2 with Identity-H (two-byte glyph
 * IDs) and a /ToUnicode, so text extracts. The subset keeps glyph IDs, so no CIDToGIDMap stream is needed.
 */
export function embedFont(update: ObjectSink, font: TrueTypeFont, glyphs: number[], chars: string[]): PdfRef {
  const scale = (v: number) => Math.round((v * 1000) / font.unitsPerEm);
  const program = subsetFont(font, glyphs);
  const baseFont = `${subsetTag(glyphs)}+${font.postScriptName}`;
  const fileRef = update.newRef();
  update.set(
    fileRef,
    new PdfStream(
      dict({ Length1: program.length, Filter: name('FlateDecode') }),
      new Uint8Array(deflateSync(program)),
    ),
  );
  const descriptorRef = update.newRef();
  update.set(
    descriptorRef,
    dict({
      Type: name('FontDescriptor'),
      FontName: name(baseFont),
      // Symbolic (bit 3), as is usual for CID fonts, plus FixedPitch (bit 1) when the font says so.
      Flags: 4 | (font.fixedPitch ? 1 : 0),
      FontBBox: font.bbox.map(scale),
      ItalicAngle: font.italicAngle,
      Ascent: scale(font.ascent),
      Descent: scale(font.descent),
      CapHeight: scale(font.capHeight),
      StemV: 80,
      FontFile2: fileRef,
    }),
  );
  const unicode = new Map(glyphs.map((g, i) => [g, chars[i]]));
  const used = [...unicode.keys()].sort((a, b) => a - b);
  const cidRef = update.newRef();
  update.set(
    cidRef,
    dict({
      Type: name('Font'),
      Subtype: name('CIDFontType2'),
      BaseFont: name(baseFont),
      CIDSystemInfo: dict({ Registry: latin1('Adobe'), Ordering: latin1('Identity'), Supplement: 0 }),
      FontDescriptor: descriptorRef,
      W: used.flatMap((g) => [g, [scale(font.advanceOf(g))]]),
      CIDToGIDMap: name('Identity'),
    }),
  );
  const toUnicodeRef = update.newRef();
  update.set(
    toUnicodeRef,
    new PdfStream(dict({}), new Uint8Array(Buffer.from(toUnicodeCMap(used, unicode), 'latin1'))),
  );
  const ref = update.newRef();
  update.set(
    ref,
    dict({
      Type: name('Font'),
      Subtype: name('Type0'),
      BaseFont: name(baseFont),
      Encoding: name('Identity-H'),
      DescendantFonts: [cidRef],
      ToUnicode: toUnicodeRef,
    }),
  );
  return ref;
}

/** Six capital letters naming a subset (§9.6.4), derived from the glyphs it holds. */
function subsetTag(glyphs: number[]): string {
  const digest = createHash('sha256').update(glyphs.join(',')).digest();
  return [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
}

/** A ToUnicode CMap (Adobe TN 5411) mapping each two-byte glyph code to its text as UTF-16BE. */
function toUnicodeCMap(used: number[], unicode: Map<number, string>): string {
  const hex4 = (v: number) => v.toString(16).toUpperCase().padStart(4, '0');
  const utf16 = (s: string) => Buffer.from(s, 'utf16le').swap16().toString('hex').toUpperCase();
  let body = '';
  // At most 100 entries per bfchar block.
  for (let i = 0; i < used.length; i += 100) {
    const chunk = used.slice(i, i + 100);
    body += `${chunk.length} beginbfchar\n`;
    for (const g of chunk) body += `<${hex4(g)}> <${utf16(unicode.get(g)!)}>\n`;
    body += 'endbfchar\n';
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    `${body}endcmap`,
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
    '',
  ].join('\n');
}
