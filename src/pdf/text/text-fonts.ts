import { PdfError } from '../errors.js';
import type { PdfDocument } from '../syntax/index.js';
import {
  decodeStream,
  isName,
  Lexer,
  numberValue,
  PdfDict,
  PdfStream,
  PdfString,
  type PdfValue,
} from '../syntax/index.js';
import {
  type BaseEncoding,
  glyphNameToUnicode,
  isStandardFont,
  macRomanEncoding,
  standardEncoding,
  standardMetrics,
  winAnsiEncoding,
} from './font-encodings.js';

// Fonts as a text search reads them (ISO 32000-1 §9): how a shown string splits into codes, what text
// each code stands for, and how far each advances. Only what positions and text need; no outlines.

/** One character code of a shown string. */
export interface Code {
  code: number;
  /** Bytes in the code: word spacing (Tw) applies only to the one-byte code 32 (§9.3.3). */
  length: number;
}

/** A font ready for positioning and extracting text. */
export interface TextFont {
  codes(bytes: Uint8Array): Code[];
  /** The text a code stands for; '' when the font does not say. */
  text(code: Code): string;
  /** Horizontal displacement in text space units per unit of font size (w0 / 1000 for most fonts). */
  width(code: Code): number;
  /** Top and bottom of the glyphs, per unit of font size, for boxes. */
  ascent: number;
  descent: number;
  /** Vertical writing (WMode 1): the search does not lay such text out. */
  vertical: boolean;
}

/** Bounds on CMaps; a CMap over them is refused. */
const MAX_CMAP_ENTRIES = 200_000;
const MAX_CMAP_BYTES = 4 * 1024 * 1024;
const MAX_W_ENTRIES = 100_000;

function bad(message: string): never {
  throw new PdfError('bad-structure', message);
}

/** A CMap: code space ranges, code → text (ToUnicode) and code → CID (an embedded /Encoding). */
interface CMap {
  /** Per code length 1–4, the byte ranges [low, high] of each byte. */
  spaces: { length: number; low: number[]; high: number[] }[];
  unicode: Map<number, string>;
  cid: Map<number, number>;
}

/** A key joining a code's length and value: <0041> and <41> are different codes. */
const codeKey = (length: number, value: number) => length * 2 ** 32 + value;

function bytesValue(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function utf16(b: Uint8Array): string {
  if (b.length % 2 === 1) return String.fromCharCode(...b);
  return new TextDecoder('utf-16be').decode(b);
}

/** Parses the parts of a CMap (Adobe TN 5014, 5411) a search needs; PdfError when it is malformed or too big. */
function parseCMap(data: Uint8Array): CMap {
  if (data.length > MAX_CMAP_BYTES) throw new PdfError('limit', 'CMap too large');
  const map: CMap = { spaces: [], unicode: new Map(), cid: new Map() };
  const lx = new Lexer(data);
  let entries = 0;
  const count = (n: number) => {
    entries += n;
    if (entries > MAX_CMAP_ENTRIES)
      throw new PdfError('limit', `CMap with more than ${MAX_CMAP_ENTRIES} entries`);
  };
  const str = () => {
    const t = lx.next();
    if (t.type !== 'string' || t.bytes.length < 1 || t.bytes.length > 4) bad('CMap: expected a code string');
    return t.bytes;
  };
  const dest = (): string | number | PdfString[] => {
    const t = lx.next();
    if (t.type === 'string') return utf16(t.bytes);
    if (t.type === 'name') return glyphNameToUnicode(t.value);
    if (t.type === 'number' && t.integer) return t.value;
    if (t.type === 'delimiter' && t.value === '[') {
      const out: PdfString[] = [];
      for (let u = lx.next(); !(u.type === 'delimiter' && u.value === ']'); u = lx.next()) {
        if (u.type !== 'string') bad('CMap: bfrange array holds a non-string');
        if (out.length > 65536) throw new PdfError('limit', 'CMap array too long');
        out.push(new PdfString(u.bytes));
      }
      return out;
    }
    return bad('CMap: bad destination');
  };
  for (let t = lx.next(); t.type !== 'eof'; t = lx.next()) {
    if (t.type !== 'keyword') continue;
    switch (t.value) {
      case 'begincodespacerange':
        for (let u = lx.next(); !(u.type === 'keyword' && u.value === 'endcodespacerange'); u = lx.next()) {
          if (u.type !== 'string') bad('CMap: bad codespacerange');
          const high = str();
          if (u.bytes.length !== high.length || u.bytes.length === 0 || u.bytes.length > 4)
            bad('CMap: codespacerange ends of different lengths');
          count(1);
          map.spaces.push({ length: high.length, low: [...u.bytes], high: [...high] });
        }
        break;
      case 'beginbfchar':
      case 'begincidchar': {
        const end = t.value === 'beginbfchar' ? 'endbfchar' : 'endcidchar';
        for (let u = lx.next(); !(u.type === 'keyword' && u.value === end); u = lx.next()) {
          if (u.type !== 'string' || u.bytes.length < 1 || u.bytes.length > 4) bad(`CMap: bad ${t.value}`);
          const d = dest();
          count(1);
          const key = codeKey(u.bytes.length, bytesValue(u.bytes));
          if (typeof d === 'string') map.unicode.set(key, d);
          else if (typeof d === 'number') map.cid.set(key, d);
        }
        break;
      }
      case 'beginbfrange':
      case 'begincidrange': {
        const end = t.value === 'beginbfrange' ? 'endbfrange' : 'endcidrange';
        for (let u = lx.next(); !(u.type === 'keyword' && u.value === end); u = lx.next()) {
          if (u.type !== 'string' || u.bytes.length < 1 || u.bytes.length > 4) bad(`CMap: bad ${t.value}`);
          const high = str();
          const lo = bytesValue(u.bytes);
          const hi = bytesValue(high);
          const d = dest();
          if (hi < lo || high.length !== u.bytes.length) bad('CMap: range ends out of order');
          count(hi - lo + 1);
          for (let c = lo; c <= hi; c++) {
            const key = codeKey(u.bytes.length, c);
            if (typeof d === 'number') map.cid.set(key, d + c - lo);
            else if (Array.isArray(d)) {
              const item = d[c - lo];
              if (item) map.unicode.set(key, utf16(item.bytes));
            } else if (d.length > 0) {
              // The last UTF-16 unit counts up through the range.
              const last = d.charCodeAt(d.length - 1) + c - lo;
              map.unicode.set(key, d.slice(0, -1) + String.fromCharCode(last & 0xffff));
            }
          }
        }
        break;
      }
    }
  }
  return map;
}

/** Splits bytes into codes by a CMap's code space ranges; bytes in no range take the shortest length. */
function splitCodes(bytes: Uint8Array, spaces: CMap['spaces'], fallback: number): Code[] {
  const out: Code[] = [];
  let i = 0;
  while (i < bytes.length) {
    let length = 0;
    for (const s of spaces) {
      if (i + s.length > bytes.length) continue;
      let inside = true;
      for (let k = 0; k < s.length && inside; k++)
        inside = bytes[i + k] >= s.low[k] && bytes[i + k] <= s.high[k];
      if (inside && (length === 0 || s.length < length)) length = s.length;
    }
    if (length === 0) length = Math.min(fallback, bytes.length - i);
    out.push({ code: bytesValue(bytes.subarray(i, i + length)), length });
    i += length;
  }
  return out;
}

const singleBytes = (bytes: Uint8Array): Code[] => Array.from(bytes, (code) => ({ code, length: 1 }));

/** Reads a font dictionary for text search; PdfError when it is malformed. */
export function loadTextFont(doc: PdfDocument, font: PdfDict, maxStreamBytes: number): TextFont {
  const subtype = doc.get(font, 'Subtype');
  const toUnicodeValue = doc.get(font, 'ToUnicode');
  const toUnicode =
    toUnicodeValue instanceof PdfStream ? parseCMap(decodeStream(toUnicodeValue, maxStreamBytes)) : undefined;
  if (isName(subtype, 'Type0')) return type0Font(doc, font, toUnicode, maxStreamBytes);
  return simpleFont(doc, font, toUnicode, isName(subtype, 'Type3'), maxStreamBytes);
}

function descriptorMetrics(doc: PdfDocument, descriptor: PdfValue | undefined) {
  if (!(descriptor instanceof PdfDict)) return undefined;
  const ascent = numberValue(doc.get(descriptor, 'Ascent'));
  const descent = numberValue(doc.get(descriptor, 'Descent'));
  const flags = numberValue(doc.get(descriptor, 'Flags')) ?? 0;
  const missing = numberValue(doc.get(descriptor, 'MissingWidth'));
  // Writers put nonsense here often enough that out-of-range values are better ignored.
  const sane =
    ascent !== undefined &&
    descent !== undefined &&
    ascent > 0 &&
    ascent <= 2000 &&
    descent <= 0 &&
    descent >= -1000;
  return {
    ascent: sane ? ascent : undefined,
    descent: sane ? descent : undefined,
    serif: (flags & 2) !== 0,
    missing,
  };
}

function simpleFont(
  doc: PdfDocument,
  font: PdfDict,
  toUnicode: CMap | undefined,
  type3: boolean,
  maxStreamBytes: number,
): TextFont {
  const baseFontValue = doc.get(font, 'BaseFont');
  const baseFont = isName(baseFontValue) ? baseFontValue.value : '';
  const descriptor = descriptorMetrics(doc, doc.get(font, 'FontDescriptor'));
  const encoding = simpleEncoding(doc, doc.get(font, 'Encoding'), builtInEncoding(doc, font, maxStreamBytes));
  const text = (code: Code) => {
    const mapped = toUnicode?.unicode.get(codeKey(1, code.code));
    return mapped ?? encoding(code.code);
  };
  const firstChar = numberValue(doc.get(font, 'FirstChar')) ?? 0;
  const widthsValue = doc.get(font, 'Widths');
  const widths = Array.isArray(widthsValue)
    ? widthsValue.map((w) => numberValue(doc.resolve(w)) ?? 0)
    : undefined;
  const standard = standardMetrics(baseFont, descriptor?.serif);
  // Type 3 glyph space is the font's own (its /FontMatrix); the others are 1/1000 of text space.
  let scale = 1 / 1000;
  if (type3) {
    const matrix = doc.get(font, 'FontMatrix');
    const a = Array.isArray(matrix) ? numberValue(doc.resolve(matrix[0])) : undefined;
    if (a === undefined || !Number.isFinite(a)) bad('Type 3 font without a /FontMatrix');
    scale = a;
  }
  const known = !!widths || isStandardFont(baseFont);
  return {
    codes: singleBytes,
    text,
    width(code) {
      const w = widths?.[code.code - firstChar];
      if (w !== undefined) return w * scale;
      if (widths && descriptor?.missing !== undefined) return descriptor.missing * scale;
      // A standard font without /Widths, or no widths at all: the nearest standard font's.
      return (known || !widths ? standard.width(text(code) || ' ') : 0) / 1000;
    },
    ascent: (descriptor?.ascent ?? (type3 ? 800 : standard.ascent)) / 1000,
    descent: (descriptor?.descent ?? (type3 ? -200 : standard.descent)) / 1000,
    vertical: false,
  };
}

function baseEncodingNamed(name: string | undefined): BaseEncoding | undefined {
  if (name === 'WinAnsiEncoding') return winAnsiEncoding;
  if (name === 'MacRomanEncoding') return macRomanEncoding;
  if (name === 'StandardEncoding') return standardEncoding;
  return undefined;
}

/**
 * The encoding a simple font has without /Encoding: an embedded Type 1 program's own (TeX's fonts use
 * theirs), else WinAnsi for TrueType and StandardEncoding for the rest.
 */
function builtInEncoding(doc: PdfDocument, font: PdfDict, maxStreamBytes: number): BaseEncoding {
  const trueType = isName(doc.get(font, 'Subtype'), 'TrueType');
  const fallback = trueType ? winAnsiEncoding : standardEncoding;
  const descriptor = doc.get(font, 'FontDescriptor');
  const file = descriptor instanceof PdfDict ? doc.get(descriptor, 'FontFile') : undefined;
  if (trueType || !(file instanceof PdfStream)) return fallback;
  // The clear-text part (/Length1 bytes) holds the encoding as `dup CODE /name put`.
  const length1 = numberValue(doc.get(file.dict, 'Length1'));
  let data: Uint8Array;
  try {
    data = decodeStream(file, maxStreamBytes);
  } catch (e) {
    // A filter Kyso does not decode hides only the built-in encoding: read the font as the default.
    if (e instanceof PdfError && e.code === 'unsupported-filter') return fallback;
    throw e;
  }
  const clear = Buffer.from(
    data.subarray(0, Math.min(length1 ?? data.length, data.length, 256 * 1024)),
  ).toString('latin1');
  if (/\/Encoding\s+StandardEncoding\s+def/.test(clear)) return standardEncoding;
  const table = new Map<number, string>();
  for (const m of clear.matchAll(/dup\s+(\d{1,3})\s*\/([^\s/[\]{}()<>]+)\s+put/g))
    if (Number(m[1]) < 256) table.set(Number(m[1]), glyphNameToUnicode(m[2]));
  return table.size ? (c) => table.get(c) ?? '' : fallback;
}

/** A simple font's code → text: /Encoding as a name or a dictionary with /Differences (§9.6.6.1). */
function simpleEncoding(doc: PdfDocument, value: PdfValue | undefined, fallback: BaseEncoding): BaseEncoding {
  if (isName(value)) return baseEncodingNamed(value.value) ?? fallback;
  if (!(value instanceof PdfDict)) return fallback;
  const baseName = doc.get(value, 'BaseEncoding');
  const base = baseEncodingNamed(isName(baseName) ? baseName.value : undefined) ?? fallback;
  const differences = doc.get(value, 'Differences');
  if (differences === undefined) return base;
  if (!Array.isArray(differences)) bad('/Differences is not an array');
  const table = new Map<number, string>();
  let code = -1;
  for (const item of differences) {
    const v = doc.resolve(item);
    if (typeof v === 'number') code = v;
    else if (isName(v)) {
      if (code < 0 || code > 255) bad('/Differences names a code outside 0–255');
      table.set(code++, glyphNameToUnicode(v.value));
    } else bad('/Differences holds something other than codes and names');
  }
  return (c) => table.get(c) ?? base(c);
}

function type0Font(
  doc: PdfDocument,
  font: PdfDict,
  toUnicode: CMap | undefined,
  maxStreamBytes: number,
): TextFont {
  const descendants = doc.get(font, 'DescendantFonts');
  const cidFont = Array.isArray(descendants) ? doc.resolve(descendants[0]) : undefined;
  if (!(cidFont instanceof PdfDict)) bad('Type0 font without a descendant font');
  const encodingValue = doc.get(font, 'Encoding');
  let spaces: CMap['spaces'];
  let cidOf: (code: Code) => number;
  let vertical = false;
  if (isName(encodingValue)) {
    const n = encodingValue.value;
    vertical = n.endsWith('-V');
    // Identity-H/V: two-byte codes that are CIDs. Other predefined CMaps: split by the ToUnicode's ranges
    // when it has them; the CIDs, and so the widths, are then approximate.
    spaces = n.startsWith('Identity-')
      ? [{ length: 2, low: [0, 0], high: [255, 255] }]
      : (toUnicode?.spaces ?? []);
    cidOf = (c) => c.code;
  } else if (encodingValue instanceof PdfStream) {
    const cmap = parseCMap(decodeStream(encodingValue, maxStreamBytes));
    const wmode = doc.get(encodingValue.dict, 'WMode');
    vertical = wmode === 1;
    spaces = cmap.spaces;
    cidOf = (c) => cmap.cid.get(codeKey(c.length, c.code)) ?? 0;
  } else return bad('Type0 font without an /Encoding');
  const widths = cidWidths(doc, cidFont);
  const dw = numberValue(doc.get(cidFont, 'DW')) ?? 1000;
  const descriptor = descriptorMetrics(doc, doc.get(cidFont, 'FontDescriptor'));
  return {
    codes: (bytes) => splitCodes(bytes, spaces, 2),
    text: (c) => toUnicode?.unicode.get(codeKey(c.length, c.code)) ?? '',
    width: (c) => (widths.get(cidOf(c)) ?? dw) / 1000,
    ascent: (descriptor?.ascent ?? 880) / 1000,
    descent: (descriptor?.descent ?? -120) / 1000,
    vertical,
  };
}

/** A CIDFont's /W (§9.7.4.3): `c [w1 w2 …]` and `cfirst clast w`. */
function cidWidths(doc: PdfDocument, cidFont: PdfDict): Map<number, number> {
  const out = new Map<number, number>();
  const w = doc.get(cidFont, 'W');
  if (w === undefined) return out;
  if (!Array.isArray(w)) bad('/W is not an array');
  const num = (v: PdfValue | undefined) => {
    const n = numberValue(doc.resolve(v));
    if (n === undefined) bad('/W holds something other than numbers and arrays');
    return n;
  };
  let i = 0;
  while (i < w.length) {
    const first = num(w[i]);
    const next = doc.resolve(w[i + 1]);
    if (Array.isArray(next)) {
      next.forEach((v, k) => {
        out.set(first + k, num(v));
      });
      i += 2;
    } else {
      const last = num(next);
      const width = num(w[i + 2]);
      if (last < first || last - first > MAX_W_ENTRIES) bad('/W range out of order or too long');
      for (let c = first; c <= last; c++) out.set(c, width);
      i += 3;
    }
    if (out.size > MAX_W_ENTRIES) throw new PdfError('limit', `/W with more than ${MAX_W_ENTRIES} entries`);
  }
  return out;
}
