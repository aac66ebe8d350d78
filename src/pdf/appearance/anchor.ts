import { PdfError } from '../errors.js';
import type { Box, PdfDocument } from '../syntax/index.js';
import { decodePng, numberValue, PdfDict, PdfRef } from '../syntax/index.js';
import { PageText, type TextBox, type TextSearchOptions, type TextWord } from '../text/index.js';
import { type AppearanceRect, type PageView, pageView, type SignatureAppearance } from './appearance.js';

// Placing a visible signature next to a text, as Decree 30/2020 lays out a signing block: job title,
// the leader's signature image, then the full name. The image goes above the name, centred on it, in
// the space up to the title; the seal goes over the left third of the leader's image.

/** Widest default signature image, in points (about 53 mm). */
export const MAX_IMAGE_WIDTH = 150;
/** Tallest default signature image, and its height when no title is found above the name. */
const MAX_IMAGE_HEIGHT = 80;
const NO_TITLE_HEIGHT = 60;
/** Smallest default height, even when the title crowds the name. */
const MIN_IMAGE_HEIGHT = 24;
/** Room kept between the image and the text around it. */
const PADDING = 2;
/** A seal's size when its PNG does not say its resolution (pHYs): 40 mm, a common seal diameter. */
export const DEFAULT_SEAL_SIZE = (40 / 25.4) * 72;

/** Where to put an image or seal: next to a text on a page. */
export interface AnchorRequest {
  kind: 'image' | 'seal';
  png: Uint8Array;
  /** The text to find, typically the leader's full name. */
  text: string;
  /** 1-based page, or -1 for the last; absent: the last page, then earlier ones. */
  page?: number;
  /** Width and height of the rect in points; default from the image and the room around the text. */
  size?: [number, number];
  search?: TextSearchOptions;
}

/** The appearance to sign with, and the text box it was placed by (in the page's view). */
export interface AnchoredAppearance {
  appearance: Extract<SignatureAppearance, { kind: 'image' | 'seal' }>;
  page: number;
  anchor: AppearanceRect;
}

function badInput(message: string): never {
  throw new PdfError('bad-input', message);
}

/**
 * Finds the text and places the image by it: the last occurrence in reading order on the first page that
 * has one (from the last page back, unless a page is given). PdfError 'anchor-not-found' when absent.
 */
export function anchorAppearance(doc: PdfDocument, request: AnchorRequest): AnchoredAppearance {
  if (request.kind !== 'image' && request.kind !== 'seal')
    badInput('anchored appearance must be image or seal');
  if (!(request.png instanceof Uint8Array)) badInput('appearance png must be bytes');
  if (request.size !== undefined) {
    const [w, h] = request.size;
    if (!(Number.isFinite(w) && Number.isFinite(h) && w > 0 && h > 0))
      badInput('anchored size must be a positive width and height');
  }
  if (typeof request.text !== 'string' || !request.text.trim()) badInput('anchor text must not be empty');
  const pages = doc.pages();
  const order =
    request.page === undefined
      ? pages.map((_, i) => pages.length - 1 - i)
      : request.page === -1
        ? [pages.length - 1]
        : Number.isInteger(request.page) && request.page >= 1 && request.page <= pages.length
          ? [request.page - 1]
          : badInput(`page must be from 1 to ${pages.length}, or -1 for the last page`);
  for (const index of order) {
    const text = PageText.read(doc, index, request.search);
    const found = text.find(request.text, request.search?.ignoreCase);
    if (!found.length) continue;
    const view = pageView(pages[index]);
    // The name sits at the bottom of the signing block: the last occurrence.
    const name = view.toView(boxCorners(found[found.length - 1]));
    const titleGap = gapAbove(text.words(), view, name);
    const image = decodePng(request.png);
    const rect =
      request.kind === 'image'
        ? imageRect(name, titleGap, request.size ?? defaultImageSize(image.width / image.height, titleGap))
        : sealRect(
            leaderRect(doc, index, view, name) ?? imageRect(name, titleGap, defaultImageSize(2.5, titleGap)),
            request.size ?? sealSize(request.png, image.width, image.height),
          );
    return {
      appearance: { kind: request.kind, png: request.png, page: index + 1, rect: clampToPage(rect, view) },
      page: index + 1,
      anchor: name,
    };
  }
  const where = order.length === 1 ? `page ${order[0] + 1}` : 'any page';
  throw new PdfError('anchor-not-found', `the text "${request.text}" is not on ${where}`);
}

const boxCorners = (b: TextBox): Box => [b.x, b.y, b.x + b.width, b.y + b.height];

/**
 * The free height between the top of the name and the nearest text above it that overlaps the image's
 * column (the job title); undefined when nothing is above.
 */
function gapAbove(words: TextWord[], view: PageView, name: AppearanceRect): number | undefined {
  const [nx, ny, nw, nh] = name;
  const centre = nx + nw / 2;
  const half = Math.max(MAX_IMAGE_WIDTH, nw) / 2;
  const top = ny + nh;
  let gap: number | undefined;
  for (const word of words) {
    const [x, y, w] = view.toView(boxCorners(word));
    if (x > centre + half || x + w < centre - half) continue;
    // Above the name's line, not on it.
    if (y < top - nh / 4) continue;
    const g = Math.max(0, y - top);
    if (gap === undefined || g < gap) gap = g;
  }
  return gap;
}

/** The default image size: at most 150 pt wide and as tall as the gap allows, aspect kept. */
function defaultImageSize(aspect: number, gap: number | undefined): [number, number] {
  const room = gap === undefined ? NO_TITLE_HEIGHT : Math.min(MAX_IMAGE_HEIGHT, gap - 2 * PADDING);
  const height = Math.min(Math.max(room, MIN_IMAGE_HEIGHT), MAX_IMAGE_WIDTH / aspect);
  return [height * aspect, height];
}

/** The rect centred over the name; vertically centred in the gap when it fits, else just above the name. */
function imageRect(name: AppearanceRect, gap: number | undefined, [w, h]: [number, number]): AppearanceRect {
  const [nx, ny, nw, nh] = name;
  const top = ny + nh;
  const y = gap !== undefined && gap >= h + 2 * PADDING ? top + (gap - h) / 2 : top + PADDING;
  return [nx + nw / 2 - w / 2, y, w, h];
}

/** Decree 30/2020: the seal covers about the left third of the leader's image, centred on it vertically. */
function sealRect(leader: AppearanceRect, [w, h]: [number, number]): AppearanceRect {
  const [lx, ly, lw, lh] = leader;
  return [lx + lw / 3 - w, ly + lh / 2 - h / 2, w, h];
}

/** A signature widget already on the page above the name: where the leader's image is. */
function leaderRect(
  doc: PdfDocument,
  index: number,
  view: PageView,
  name: AppearanceRect,
): AppearanceRect | undefined {
  const page = doc.pages()[index];
  const [nx, ny, nw, nh] = name;
  const centre = nx + nw / 2;
  // On the page: listed in its /Annots, or pointing at it with /P (which is optional).
  const annots = doc.get(page.dict, 'Annots');
  const listed = new Set(
    Array.isArray(annots) ? annots.flatMap((a) => (a instanceof PdfRef ? [a.num] : [])) : [],
  );
  let best: AppearanceRect | undefined;
  for (const field of doc.signatureFields())
    for (const ref of field.widgets) {
      const widget = doc.object(ref);
      if (!(widget instanceof PdfDict)) continue;
      const p = widget.get('P');
      if (!listed.has(ref.num) && !(p instanceof PdfRef && p.num === page.ref.num)) continue;
      const r = doc.get(widget, 'Rect');
      const n = Array.isArray(r) ? r.map((v) => numberValue(doc.resolve(v))) : [];
      if (n.length !== 4 || n.some((v) => v === undefined)) continue;
      const [a, b, c, d] = n as number[];
      if (Math.abs(c - a) < 1 || Math.abs(d - b) < 1) continue;
      const rect = view.toView([Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)]);
      const [x, y, w] = rect;
      if (x > centre || x + w < centre || y < ny + nh / 2) continue;
      if (!best || y < best[1]) best = rect;
    }
  return best;
}

/** A seal's actual size from its PNG's resolution (pHYs in pixels per metre), else 40 mm on its longer side. */
function sealSize(png: Uint8Array, width: number, height: number): [number, number] {
  const perMetre = pngResolution(png);
  if (perMetre) return [(width / perMetre[0]) * (72 / 0.0254), (height / perMetre[1]) * (72 / 0.0254)];
  const scale = DEFAULT_SEAL_SIZE / Math.max(width, height);
  return [width * scale, height * scale];
}

/** The pHYs chunk's pixels per metre, when the PNG has one in metres (before the image data). */
function pngResolution(png: Uint8Array): [number, number] | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 8 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'pHYs' && length === 9 && at + 17 <= png.length) {
      const x = view.getUint32(at + 8);
      const y = view.getUint32(at + 12);
      // Unit 1 is the metre; 0 gives only the aspect ratio. Below 1 dpi is not a real resolution.
      return png[at + 16] === 1 && x >= 40 && y >= 40 ? [x, y] : undefined;
    }
    at += 12 + length;
  }
  return undefined;
}

/** Moves a rect onto the page when the name is near an edge; shrinks it when it is larger than the page. */
function clampToPage([x, y, w, h]: AppearanceRect, view: PageView): AppearanceRect {
  const fit = Math.min(1, view.width / w, view.height / h);
  const fw = w * fit;
  const fh = h * fit;
  return [Math.min(Math.max(x, 0), view.width - fw), Math.min(Math.max(y, 0), view.height - fh), fw, fh];
}
