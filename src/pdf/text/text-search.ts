import { PdfError } from '../errors.js';
import type { PdfDocument } from '../syntax/index.js';
import {
  decodeStream,
  isName,
  Lexer,
  latin1,
  numberValue,
  PdfDict,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
  parseValue,
} from '../syntax/index.js';
import { type Code, loadTextFont, type TextFont } from './text-fonts.js';

// Finding text on a page, to place a signature next to it: the content stream is run as far as text
// goes (ISO 32000-1 §8.4, §9.3, §9.4) — the transformation matrices, text state and fonts — giving each
// glyph's box; glyphs are then joined into lines in reading order, whatever way the writer split them.

/** A box in default user space: x, y of the lower-left corner, width and height. */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How a search is bounded and matched; every bound has a default. */
export interface TextSearchOptions {
  /** Match letters regardless of case (default false: case-sensitive). */
  ignoreCase?: boolean;
  /** Most decoded content bytes for the page, forms included (default 32 MiB). */
  maxContentBytes?: number;
  /** Most operators run for the page (default 2,000,000). */
  maxOperators?: number;
  /** Most glyphs shown on the page (default 500,000). */
  maxGlyphs?: number;
  /** Deepest nesting of Form XObjects (default 8) and of q (default 256). */
  maxFormDepth?: number;
  maxSaveDepth?: number;
}

const DEFAULTS: Required<Omit<TextSearchOptions, 'ignoreCase'>> = {
  maxContentBytes: 32 * 1024 * 1024,
  maxOperators: 2_000_000,
  maxGlyphs: 500_000,
  maxFormDepth: 8,
  maxSaveDepth: 256,
};

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m × n, in PDF's row-vector convention: apply m first, then n. */
function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[1] * n[2],
    m[0] * n[1] + m[1] * n[3],
    m[2] * n[0] + m[3] * n[2],
    m[2] * n[1] + m[3] * n[3],
    m[4] * n[0] + m[5] * n[2] + n[4],
    m[4] * n[1] + m[5] * n[3] + n[5],
  ];
}

const apply = (m: Matrix, x: number, y: number): [number, number] => [
  x * m[0] + y * m[2] + m[4],
  x * m[1] + y * m[3] + m[5],
];

/** A shown glyph: its text and where it lies in default user space. */
interface Glyph {
  text: string;
  /** The four corners: baseline start, baseline end, each raised to the ascent and lowered to the descent. */
  corners: [number, number][];
  /** Unit vector along the baseline, and the glyph's size along the perpendicular (for tolerances). */
  dx: number;
  dy: number;
  size: number;
  /** Start and end along the baseline direction, and the baseline's offset across it. */
  start: number;
  end: number;
  across: number;
}

interface GraphicsState {
  ctm: Matrix;
  font?: TextFont;
  fontSize: number;
  charSpacing: number;
  wordSpacing: number;
  scale: number;
  leading: number;
  rise: number;
}

/** The page's glyphs, in content order; PdfError when the content is malformed or over a bound. */
function pageGlyphs(
  doc: PdfDocument,
  pageIndex: number,
  limits: Required<Omit<TextSearchOptions, 'ignoreCase'>>,
): Glyph[] {
  const pages = doc.pages();
  if (!Number.isInteger(pageIndex) || pageIndex < 0 || pageIndex >= pages.length)
    throw new PdfError('bad-input', `page index must be from 0 to ${pages.length - 1}`);
  const page = pages[pageIndex];
  const glyphs: Glyph[] = [];
  const fonts = new Map<PdfValue, TextFont>();
  let contentBudget = limits.maxContentBytes;
  let operators = 0;
  const decode = (s: PdfStream) => {
    const data = decodeStream(s, Math.min(contentBudget, doc.options.maxStreamBytes));
    contentBudget -= data.length;
    if (contentBudget < 0) throw new PdfError('limit', `page content over ${limits.maxContentBytes} bytes`);
    return data;
  };
  const fontOf = (resources: PdfDict | undefined, fontName: string): TextFont => {
    const dict = resources && doc.get(resources, 'Font');
    const entry = dict instanceof PdfDict ? dict.get(fontName) : undefined;
    const font = doc.resolve(entry);
    if (!(font instanceof PdfDict))
      throw new PdfError('bad-structure', `the font /${fontName} is not in the resources`);
    const key = entry instanceof PdfRef ? entry.num : font;
    let loaded = fonts.get(key);
    if (!loaded) {
      loaded = loadTextFont(doc, font, Math.min(contentBudget, doc.options.maxStreamBytes));
      fonts.set(key, loaded);
    }
    return loaded;
  };

  const run = (
    content: Uint8Array,
    resources: PdfDict | undefined,
    start: GraphicsState,
    forms: number[],
  ) => {
    const stack: GraphicsState[] = [];
    let gs = { ...start };
    let tm: Matrix = IDENTITY;
    let tlm: Matrix = IDENTITY;
    const lx = new Lexer(content);
    const operands: PdfValue[] = [];
    const num = (i: number, op: string) => {
      const v = numberValue(operands[i]);
      if (v === undefined || !Number.isFinite(v)) throw new PdfError('syntax', `${op} needs numbers`);
      return v;
    };
    const need = (n: number, op: string) => {
      if (operands.length < n) throw new PdfError('syntax', `${op} needs ${n} operands`);
      // Extra operands before are left over from what this search ignores; only the last n count.
      operands.splice(0, operands.length - n);
    };
    const moveLine = (tx: number, ty: number) => {
      tlm = multiply([1, 0, 0, 1, tx, ty], tlm);
      tm = tlm;
    };
    const show = (s: PdfValue | undefined, op: string) => {
      if (!(s instanceof PdfString)) throw new PdfError('syntax', `${op} needs a string`);
      const font = gs.font;
      if (!font) throw new PdfError('syntax', `${op} before any Tf sets a font`);
      for (const code of font.codes(s.bytes)) tm = showGlyph(font, code, tm);
    };
    const showGlyph = (font: TextFont, code: Code, m: Matrix): Matrix => {
      const w0 = font.width(code);
      const spacing = gs.charSpacing + (code.length === 1 && code.code === 32 ? gs.wordSpacing : 0);
      if (font.vertical) return multiply([1, 0, 0, 1, 0, -gs.fontSize + spacing], m);
      const trm = multiply(multiply([gs.fontSize * gs.scale, 0, 0, gs.fontSize, 0, gs.rise], m), gs.ctm);
      const text = font.text(code);
      if (glyphs.length === limits.maxGlyphs)
        throw new PdfError('limit', `more than ${limits.maxGlyphs} glyphs on the page`);
      glyphs.push(glyphAt(trm, w0, font, text));
      return multiply([1, 0, 0, 1, (w0 * gs.fontSize + spacing) * gs.scale, 0], m);
    };

    for (let t = lx.next(); t.type !== 'eof'; t = lx.next()) {
      if (t.type !== 'keyword') {
        if (t.type === 'delimiter' && (t.value === '[' || t.value === '<<')) {
          lx.pos = t.start;
          operands.push(parseValue(lx, { maxDepth: 32, inFile: false }));
        } else if (t.type === 'number') operands.push(t.value);
        else if (t.type === 'string') operands.push(new PdfString(t.bytes, t.hex));
        else if (t.type === 'name') operands.push(new PdfName(t.value));
        else throw new PdfError('syntax', `unexpected token at offset ${t.start} in content`);
        if (operands.length > 64) throw new PdfError('limit', 'too many operands before an operator');
        continue;
      }
      if (++operators > limits.maxOperators)
        throw new PdfError('limit', `more than ${limits.maxOperators} operators on the page`);
      const op = t.value;
      if (op === 'true' || op === 'false' || op === 'null') {
        operands.push(op === 'null' ? null : op === 'true');
        continue;
      }
      switch (op) {
        case 'q':
          if (stack.length === limits.maxSaveDepth)
            throw new PdfError('limit', `q nested deeper than ${limits.maxSaveDepth}`);
          stack.push({ ...gs });
          break;
        case 'Q':
          // An unbalanced Q is common enough in the wild and harmless here.
          gs = stack.pop() ?? gs;
          break;
        case 'cm':
          need(6, op);
          gs.ctm = multiply([num(0, op), num(1, op), num(2, op), num(3, op), num(4, op), num(5, op)], gs.ctm);
          break;
        case 'BT':
          tm = IDENTITY;
          tlm = IDENTITY;
          break;
        case 'Tc':
          need(1, op);
          gs.charSpacing = num(0, op);
          break;
        case 'Tw':
          need(1, op);
          gs.wordSpacing = num(0, op);
          break;
        case 'Tz':
          need(1, op);
          gs.scale = num(0, op) / 100;
          break;
        case 'TL':
          need(1, op);
          gs.leading = num(0, op);
          break;
        case 'Ts':
          need(1, op);
          gs.rise = num(0, op);
          break;
        case 'Tf': {
          need(2, op);
          const fontName = operands[0];
          if (!isName(fontName)) throw new PdfError('syntax', 'Tf needs a font name');
          gs.font = fontOf(resources, fontName.value);
          gs.fontSize = num(1, op);
          break;
        }
        case 'Td':
          need(2, op);
          moveLine(num(0, op), num(1, op));
          break;
        case 'TD':
          need(2, op);
          gs.leading = -num(1, op);
          moveLine(num(0, op), num(1, op));
          break;
        case 'Tm':
          need(6, op);
          tlm = [num(0, op), num(1, op), num(2, op), num(3, op), num(4, op), num(5, op)];
          tm = tlm;
          break;
        case 'T*':
          moveLine(0, -gs.leading);
          break;
        case 'Tj':
          need(1, op);
          show(operands[0], op);
          break;
        case "'":
          need(1, op);
          moveLine(0, -gs.leading);
          show(operands[0], op);
          break;
        case '"':
          need(3, op);
          gs.wordSpacing = num(0, op);
          gs.charSpacing = num(1, op);
          moveLine(0, -gs.leading);
          show(operands[2], op);
          break;
        case 'TJ': {
          need(1, op);
          const items = operands[0];
          if (!Array.isArray(items)) throw new PdfError('syntax', 'TJ needs an array');
          for (const item of items) {
            const adjust = numberValue(item);
            if (adjust !== undefined) {
              if (!Number.isFinite(adjust)) throw new PdfError('syntax', 'TJ adjustment is not finite');
              const shift = (-adjust / 1000) * gs.fontSize;
              tm = gs.font?.vertical
                ? multiply([1, 0, 0, 1, 0, shift], tm)
                : multiply([1, 0, 0, 1, shift * gs.scale, 0], tm);
            } else show(item, op);
          }
          break;
        }
        case 'Do': {
          need(1, op);
          const xName = operands[0];
          if (!isName(xName)) throw new PdfError('syntax', 'Do needs a name');
          const xobjects = resources && doc.get(resources, 'XObject');
          const ref = xobjects instanceof PdfDict ? xobjects.get(xName.value) : undefined;
          const form = doc.resolve(ref);
          if (!(form instanceof PdfStream) || !isName(doc.get(form.dict, 'Subtype'), 'Form')) break;
          const id = ref instanceof PdfRef ? ref.num : -1;
          if (forms.length === limits.maxFormDepth)
            throw new PdfError('limit', `forms nested deeper than ${limits.maxFormDepth}`);
          if (id >= 0 && forms.includes(id)) throw new PdfError('cycle', `form ${id} draws itself`);
          const matrixValue = doc.get(form.dict, 'Matrix');
          const matrix = matrixValue === undefined ? IDENTITY : toMatrix(doc, matrixValue);
          const formResources = doc.get(form.dict, 'Resources');
          run(
            decode(form),
            formResources instanceof PdfDict ? formResources : resources,
            { ...gs, ctm: multiply(matrix, gs.ctm) },
            [...forms, id],
          );
          break;
        }
        case 'BI':
          skipInlineImage(lx);
          break;
      }
      operands.length = 0;
    }
  };

  const initial: GraphicsState = {
    ctm: IDENTITY,
    fontSize: 0,
    charSpacing: 0,
    wordSpacing: 0,
    scale: 1,
    leading: 0,
    rise: 0,
  };
  run(pageContent(doc, page.dict, decode), inheritedResources(doc, page.dict), initial, []);
  return glyphs;
}

function toMatrix(doc: PdfDocument, v: PdfValue): Matrix {
  const m = Array.isArray(v) ? v.map((x) => numberValue(doc.resolve(x))) : [];
  if (m.length !== 6 || m.some((x) => x === undefined || !Number.isFinite(x)))
    throw new PdfError('bad-structure', 'a form /Matrix is not six numbers');
  return m as Matrix;
}

/** The glyph drawn by a text rendering matrix, w0 wide (per unit of font size). */
function glyphAt(trm: Matrix, w0: number, font: TextFont, text: string): Glyph {
  const corners = [
    apply(trm, 0, 0),
    apply(trm, w0, 0),
    apply(trm, 0, font.ascent),
    apply(trm, w0, font.ascent),
    apply(trm, 0, font.descent),
    apply(trm, w0, font.descent),
  ];
  const length = Math.hypot(trm[0], trm[1]) || 1;
  const dx = trm[0] / length;
  const dy = trm[1] / length;
  const [x0, y0] = corners[0];
  const [x1, y1] = corners[1];
  return {
    text,
    corners: [corners[2], corners[3], corners[4], corners[5]],
    dx,
    dy,
    size: Math.hypot(trm[2], trm[3]),
    start: x0 * dx + y0 * dy,
    end: x1 * dx + y1 * dy,
    across: y0 * dx - x0 * dy,
  };
}

/** The page's /Contents, one stream or an array joined with white space between (§7.8.2). */
function pageContent(doc: PdfDocument, page: PdfDict, decode: (s: PdfStream) => Uint8Array): Uint8Array {
  const contents = doc.get(page, 'Contents');
  if (contents === undefined || contents === null) return new Uint8Array();
  const parts = Array.isArray(contents) ? contents.map((c) => doc.resolve(c)) : [contents];
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    if (!(part instanceof PdfStream)) throw new PdfError('bad-structure', 'page /Contents is not a stream');
    chunks.push(decode(part), Uint8Array.of(0x0a));
  }
  return Buffer.concat(chunks);
}

/** /Resources, inherited from the page tree (§7.7.3.4). */
function inheritedResources(doc: PdfDocument, page: PdfDict): PdfDict | undefined {
  let node: PdfDict | undefined = page;
  for (let depth = 0; node && depth <= doc.options.maxDepth; depth++) {
    const r = doc.get(node, 'Resources');
    if (r instanceof PdfDict) return r;
    const parent = doc.get(node, 'Parent');
    node = parent instanceof PdfDict ? parent : undefined;
  }
  return undefined;
}

/** Skips an inline image's data, from after BI to after EI (§8.9.7): its bytes are not tokens. */
function skipInlineImage(lx: Lexer): void {
  for (let t = lx.next(); !(t.type === 'keyword' && t.value === 'ID'); t = lx.next())
    if (t.type === 'eof') throw new PdfError('syntax', 'inline image without ID');
  const { buf } = lx;
  const white = (c: number | undefined) =>
    c === undefined || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  for (let p = lx.pos + 1; p + 1 < lx.end; p++)
    if (
      buf[p] === 0x45 &&
      buf[p + 1] === 0x49 &&
      white(buf[p - 1]) &&
      white(p + 2 < lx.end ? buf[p + 2] : undefined)
    ) {
      lx.pos = p + 2;
      return;
    }
  throw new PdfError(
    'syntax',
    `inline image without EI (${latin1(buf, lx.pos, Math.min(lx.pos + 8, lx.end))}…)`,
  );
}

// ---------------------------------------------------------------- lines and matching

/** A run of glyphs read as one unit of text: NFC, with combining marks joined to their base. */
interface Cluster {
  text: string;
  glyphs: Glyph[];
  space: boolean;
}

const COMBINING = /^\p{M}/u;
const WORD = /[\p{L}\p{N}]/u;

/** Glyphs grouped into lines (same direction and baseline), each in reading order, with spaces at gaps. */
function linesOf(glyphs: Glyph[]): Cluster[][] {
  const byDirection = new Map<string, Glyph[]>();
  for (const g of glyphs) {
    // A glyph the font gives no text for (often a space missing from a ToUnicode) is left out; the gap it
    // leaves still reads as a space when it is wide enough.
    if (!g.text) continue;
    const key = `${Math.round(g.dx * 1000)},${Math.round(g.dy * 1000)}`;
    const list = byDirection.get(key);
    if (list) list.push(g);
    else byDirection.set(key, [g]);
  }
  const lines: Cluster[][] = [];
  for (const list of byDirection.values()) {
    list.sort((a, b) => b.across - a.across);
    let line: Glyph[] = [];
    for (const g of list) {
      if (line.length && Math.abs(line[0].across - g.across) > 0.3 * Math.max(line[0].size, 0.01)) {
        lines.push(clustersOf(line));
        line = [];
      }
      line.push(g);
    }
    if (line.length) lines.push(clustersOf(line));
  }
  return lines;
}

/** One line's glyphs along the baseline: overdrawn copies dropped, spaces where the gap is over 0.15 em. */
function clustersOf(line: Glyph[]): Cluster[] {
  const sorted = line.map((g, i) => ({ g, i })).sort((a, b) => a.g.start - b.g.start || a.i - b.i);
  const out: Cluster[] = [];
  let previous: Glyph | undefined;
  for (const { g } of sorted) {
    const tolerance = 0.15 * Math.max(g.size, previous?.size ?? 0);
    if (previous) {
      // The same glyph drawn again over itself (fake bold, shadows) counts once.
      if (g.text === previous.text && Math.abs(g.start - previous.start) < tolerance) continue;
      if (g.start - previous.end > tolerance && !out[out.length - 1].space)
        out.push({ text: ' ', glyphs: [], space: true });
    }
    const text = g.text.normalize('NFC');
    if (/^\s+$/u.test(text)) {
      if (!out.length || !out[out.length - 1].space) out.push({ text: ' ', glyphs: [g], space: true });
    } else if (COMBINING.test(text) && out.length && !out[out.length - 1].space) {
      const last = out[out.length - 1];
      last.text = (last.text + text).normalize('NFC');
      last.glyphs.push(g);
    } else out.push({ text, glyphs: [g], space: false });
    previous = g;
  }
  return out;
}

/** Each glyph box's corners as one axis-aligned box. */
function boxOf(glyphs: Glyph[]): TextBox {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const g of glyphs)
    for (const [x, y] of g.corners) {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** A text as it is matched: NFC, white space taken out (generators space words in many ways). */
function compact(text: string, ignoreCase: boolean): string {
  const t = text.normalize('NFC').replace(/\s+/gu, '');
  return ignoreCase ? t.toLowerCase() : t;
}

/** A word of a page (text between spaces) and its box. */
export interface TextWord extends TextBox {
  text: string;
}

/** A page's text, read once: search it, or list its words. */
export class PageText {
  private constructor(
    private readonly lines: Cluster[][],
    private readonly rotate: number,
  ) {}

  /** Runs the page's content (0-based index); PdfError when it is malformed or over a bound. */
  static read(doc: PdfDocument, pageIndex: number, options: TextSearchOptions = {}): PageText {
    const lines = linesOf(pageGlyphs(doc, pageIndex, { ...DEFAULTS, ...options }));
    return new PageText(lines, ((doc.pages()[pageIndex].rotate % 360) + 360) % 360);
  }

  /**
   * Where a text is shown: a box per occurrence in default user space, in reading order (top to bottom,
   * then left to right, as the page is shown). Whole words, ignoring how the writer split the text into
   * strings and how it spaced words; NFC on both sides, case-sensitive unless ignoreCase.
   */
  find(text: string, ignoreCase = false): TextBox[] {
    const needle = needleOf(text, ignoreCase);
    const found: TextBox[] = [];
    const edgeWord = (ch: string | undefined) => ch !== undefined && WORD.test(ch);
    for (const line of this.lines) {
      // The line without spaces, and the cluster each of its characters comes from.
      let hay = '';
      const owner: number[] = [];
      line.forEach((c, i) => {
        if (c.space) return;
        const t = ignoreCase ? c.text.toLowerCase() : c.text;
        hay += t;
        for (let k = 0; k < t.length; k++) owner.push(i);
      });
      for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
        const first = owner[at];
        const last = owner[at + needle.length - 1];
        // A neighbour counts only when no space separates it from the match.
        const before = at > 0 && owner[at - 1] === first - 1 ? hay[at - 1] : undefined;
        const after = owner[at + needle.length] === last + 1 ? hay[at + needle.length] : undefined;
        // Whole words: "Nguyễn Văn A" is not found inside "Nguyễn Văn An".
        if (edgeWord(needle[0]) && edgeWord(before)) continue;
        if (edgeWord(needle[needle.length - 1]) && edgeWord(after)) continue;
        found.push(boxOf(line.slice(first, last + 1).flatMap((c) => c.glyphs)));
      }
    }
    return readingOrder(found, this.rotate);
  }

  /** Every word with its box, for finding what lies near a match. */
  words(): TextWord[] {
    const out: TextWord[] = [];
    for (const line of this.lines) {
      let word: Cluster[] = [];
      const flush = () => {
        if (word.length)
          out.push({ ...boxOf(word.flatMap((c) => c.glyphs)), text: word.map((c) => c.text).join('') });
        word = [];
      };
      for (const c of line) c.space ? flush() : word.push(c);
      flush();
    }
    return out;
  }
}

/** Where a text is shown on a page (0-based index), in reading order: PageText.find after reading the page. */
export function findText(
  doc: PdfDocument,
  pageIndex: number,
  text: string,
  options: TextSearchOptions = {},
): TextBox[] {
  // A bad needle is refused before the page is read.
  needleOf(text, options.ignoreCase);
  return PageText.read(doc, pageIndex, options).find(text, options.ignoreCase);
}

/** The text as matched; PdfError when it is not a string, too long or only white space. */
function needleOf(text: string, ignoreCase = false): string {
  if (typeof text !== 'string' || text.length > 1000)
    throw new PdfError('bad-input', 'search text must be a string of at most 1000 characters');
  const needle = compact(text, ignoreCase);
  if (!needle) throw new PdfError('bad-input', 'search text is empty');
  return needle;
}

/** Boxes in reading order on the page as shown: rows top to bottom, each left to right. */
function readingOrder(boxes: TextBox[], rotate: number): TextBox[] {
  // Where "down" and "right" on the page as shown point in user space.
  const [down, right]: [number, number][] =
    rotate === 90
      ? [
          [-1, 0],
          [0, -1],
        ]
      : rotate === 180
        ? [
            [0, 1],
            [-1, 0],
          ]
        : rotate === 270
          ? [
              [1, 0],
              [0, 1],
            ]
          : [
              [0, -1],
              [1, 0],
            ];
  const keyed = boxes
    .map((b) => {
      const cx = b.x + b.width / 2;
      const cy = b.y + b.height / 2;
      return {
        b,
        d: cx * down[0] + cy * down[1],
        r: cx * right[0] + cy * right[1],
        h: Math.min(b.width, b.height),
      };
    })
    .sort((p, q) => p.d - q.d);
  // Boxes whose centres are within half a box of the row's first share its row.
  const rows: (typeof keyed)[] = [];
  for (const k of keyed) {
    const row = rows[rows.length - 1];
    if (row && k.d - row[0].d <= Math.max(row[0].h, k.h) / 2) row.push(k);
    else rows.push([k]);
  }
  return rows.flatMap((row) => row.sort((p, q) => p.r - q.r).map((k) => k.b));
}
