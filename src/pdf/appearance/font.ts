import { PdfError } from '../errors.js';

// Just enough of TrueType to embed a font as a CIDFontType2 (ISO 32000-1 §9.7.4): the metrics for the
// descriptor, the advance widths for /W, the cmap to turn text into glyph IDs, and a subsetter that keeps
// only the outlines a stamp uses (Liberation Serif: 214 KB compressed whole, about 13 KB as a subset).

/** The parts of a TrueType font that embedding and layout need. */
export interface TrueTypeFont {
  /** The font file itself, embedded as /FontFile2. */
  bytes: Uint8Array;
  /** PostScript name (name ID 6), made safe for a PDF name. */
  postScriptName: string;
  unitsPerEm: number;
  bbox: [number, number, number, number];
  ascent: number;
  descent: number;
  capHeight: number;
  italicAngle: number;
  fixedPitch: boolean;
  numGlyphs: number;
  /** Glyph ID for a code point, or 0 (.notdef) when the font lacks it. */
  glyphOf(codePoint: number): number;
  /** Advance width of a glyph in font units. */
  advanceOf(glyph: number): number;
  /** The table directory: where each table lies in bytes. */
  tables: ReadonlyMap<string, { offset: number; length: number }>;
  /** Whether loca holds 32-bit offsets (head.indexToLocFormat 1). */
  longLoca: boolean;
}

/** Largest font file accepted. */
const MAX_FONT_BYTES = 32 * 1024 * 1024;
const MAX_TABLES = 256;
const MAX_CMAP_GROUPS = 200_000;

function bad(message: string): never {
  throw new PdfError('bad-input', `TrueType: ${message}`);
}

/** Reads a TrueType (glyf-outline) font; PdfError when it is malformed, not TrueType or not embeddable. */
export function parseTrueType(bytes: Uint8Array): TrueTypeFont {
  if (bytes.length > MAX_FONT_BYTES) throw new PdfError('limit', `font larger than ${MAX_FONT_BYTES} bytes`);
  if (bytes.length < 12) bad('file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint32(0);
  if (version === 0x4f54544f) throw new PdfError('unsupported', 'CFF-based OpenType fonts are not supported');
  if (version !== 0x00010000 && version !== 0x74727565) bad('not a TrueType font');
  const numTables = view.getUint16(4);
  if (numTables > MAX_TABLES || 12 + 16 * numTables > bytes.length) bad('bad table directory');
  const tables = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < numTables; i++) {
    const at = 12 + 16 * i;
    const tag = Buffer.from(bytes.subarray(at, at + 4)).toString('latin1');
    const offset = view.getUint32(at + 8);
    const length = view.getUint32(at + 12);
    if (offset + length > bytes.length) bad(`table ${tag} runs past the end`);
    tables.set(tag, { offset, length });
  }
  const table = (tag: string, min: number) => {
    const t = tables.get(tag);
    if (!t) bad(`no ${tag} table`);
    if (t.length < min) bad(`${tag} table too short`);
    return t;
  };
  // Every read goes through here, so a lying offset inside a table cannot reach past the file.
  const u16 = (at: number) => (at + 2 <= bytes.length ? view.getUint16(at) : bad('read past the end'));
  const i16 = (at: number) => (at + 2 <= bytes.length ? view.getInt16(at) : bad('read past the end'));
  const u32 = (at: number) => (at + 4 <= bytes.length ? view.getUint32(at) : bad('read past the end'));
  if (!tables.has('glyf'))
    throw new PdfError('unsupported', 'only fonts with TrueType outlines are supported');

  const head = table('head', 54).offset;
  const unitsPerEm = u16(head + 18);
  if (unitsPerEm < 16 || unitsPerEm > 16384) bad('bad unitsPerEm');
  const bbox: [number, number, number, number] = [
    i16(head + 36),
    i16(head + 38),
    i16(head + 40),
    i16(head + 42),
  ];
  const longLoca = i16(head + 50) === 1;
  const numGlyphs = u16(table('maxp', 6).offset + 4);
  table('loca', (numGlyphs + 1) * (longLoca ? 4 : 2));
  const hhea = table('hhea', 36).offset;
  const numberOfHMetrics = u16(hhea + 34);
  if (numberOfHMetrics < 1 || numberOfHMetrics > numGlyphs) bad('bad numberOfHMetrics');
  const hmtx = table('hmtx', 4 * numberOfHMetrics).offset;

  const os2 = tables.get('OS/2');
  // Installable (0) and editable/print-and-preview embedding allow this; restricted (bit 1 alone) does not.
  if (os2 && os2.length >= 10 && (u16(os2.offset + 8) & 0x000f) === 0x0002)
    throw new PdfError('unsupported', "the font's licence forbids embedding");
  let ascent = i16(hhea + 4);
  let descent = i16(hhea + 6);
  let capHeight = ascent;
  if (os2 && os2.length >= 78) {
    ascent = i16(os2.offset + 68);
    descent = i16(os2.offset + 70);
  }
  if (os2 && os2.length >= 90 && u16(os2.offset) >= 2) capHeight = i16(os2.offset + 88);
  const post = tables.get('post');
  const italicAngle = post && post.length >= 16 ? i16(post.offset + 4) + u16(post.offset + 6) / 65536 : 0;
  const fixedPitch = post && post.length >= 16 ? u32(post.offset + 12) !== 0 : false;

  const glyphOf = readCmap(table('cmap', 4), u16, u32);
  const advanceOf = (glyph: number) =>
    glyph < 0 || glyph >= numGlyphs ? 0 : u16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  return {
    bytes,
    postScriptName: readPostScriptName(table('name', 6), u16, bytes),
    unitsPerEm,
    bbox,
    ascent,
    descent,
    capHeight,
    italicAngle,
    fixedPitch,
    numGlyphs,
    glyphOf: (cp) => {
      const g = glyphOf(cp);
      return g < numGlyphs ? g : 0;
    },
    advanceOf,
    tables,
    longLoca,
  };
}

type Reader = (at: number) => number;

/** The best Unicode cmap subtable: format 12 (full Unicode) before format 4 (BMP). */
function readCmap(t: { offset: number; length: number }, u16: Reader, u32: Reader): (cp: number) => number {
  const n = u16(t.offset + 2);
  let best: { rank: number; at: number } | undefined;
  for (let i = 0; i < n; i++) {
    const rec = t.offset + 4 + 8 * i;
    const platform = u16(rec);
    const encoding = u16(rec + 2);
    const at = t.offset + u32(rec + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = u16(at);
    const rank = format === 12 ? 2 : format === 4 ? 1 : 0;
    if (rank && (!best || rank > best.rank)) best = { rank, at };
  }
  if (!best) throw new PdfError('unsupported', 'the font has no Unicode cmap (format 4 or 12)');
  return best.rank === 2 ? cmap12(best.at, u32) : cmap4(best.at, u16);
}

function cmap12(at: number, u32: Reader): (cp: number) => number {
  const count = u32(at + 12);
  if (count > MAX_CMAP_GROUPS) bad('too many cmap groups');
  const groups: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const g = at + 16 + 12 * i;
    groups.push([u32(g), u32(g + 4), u32(g + 8)]);
  }
  return (cp) => {
    // Groups are sorted by start code (the format requires it), so binary search.
    let lo = 0;
    let hi = groups.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, end, glyph] = groups[mid];
      if (cp < start) hi = mid - 1;
      else if (cp > end) lo = mid + 1;
      else return glyph + cp - start;
    }
    return 0;
  };
}

function cmap4(at: number, u16: Reader): (cp: number) => number {
  const segs = u16(at + 6) >> 1;
  const ends = at + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const rangeOffsets = deltas + 2 * segs;
  return (cp) => {
    if (cp > 0xffff) return 0;
    for (let i = 0; i < segs; i++) {
      if (cp > u16(ends + 2 * i)) continue;
      const start = u16(starts + 2 * i);
      if (cp < start) return 0;
      const delta = u16(deltas + 2 * i);
      const ro = u16(rangeOffsets + 2 * i);
      if (ro === 0) return (cp + delta) & 0xffff;
      // idRangeOffset is relative to its own position in the array (the format's famous quirk).
      const g = u16(rangeOffsets + 2 * i + ro + 2 * (cp - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
}

/** Name ID 6, from a Windows (UTF-16BE) or Macintosh (Roman) record; sanitized for a PDF name. */
function readPostScriptName(t: { offset: number; length: number }, u16: Reader, bytes: Uint8Array): string {
  const count = u16(t.offset + 2);
  const strings = t.offset + u16(t.offset + 4);
  for (let i = 0; i < count; i++) {
    const rec = t.offset + 6 + 12 * i;
    if (u16(rec + 6) !== 6) continue;
    const platform = u16(rec);
    const length = u16(rec + 8);
    const start = strings + u16(rec + 10);
    if (start + length > bytes.length) bad('name record runs past the end');
    const wide = platform === 3 || platform === 0;
    if (wide && length % 2) continue;
    const raw = Buffer.from(bytes.subarray(start, start + length));
    const text = wide ? raw.swap16().toString('utf16le') : raw.toString('latin1');
    const clean = text.replace(/[^A-Za-z0-9_+-]/g, '');
    if (clean) return clean.slice(0, 63);
  }
  return 'KysoEmbeddedFont';
}

/** A text laid out in one font: a glyph per character, the character it stands for, the total advance. */
export interface TextLayout {
  glyphs: number[];
  chars: string[];
  /** In font units. */
  advance: number;
}

/** Lays out a text in NFC (Vietnamese takes precomposed glyphs); PdfError for a missing glyph. */
export function layoutText(font: TrueTypeFont, text: string): TextLayout {
  const glyphs: number[] = [];
  const chars: string[] = [];
  let advance = 0;
  for (const ch of text.normalize('NFC')) {
    const cp = ch.codePointAt(0)!;
    const g = font.glyphOf(cp);
    if (g === 0)
      throw new PdfError(
        'unsupported',
        `the font ${font.postScriptName} has no glyph for U+${cp.toString(16).toUpperCase().padStart(4, '0')}`,
      );
    glyphs.push(g);
    chars.push(ch);
    advance += font.advanceOf(g);
  }
  return { glyphs, chars, advance };
}

/** Tables a CIDFontType2 program needs (§9.9), plus the ones that describe it; layout tables are dropped. */
const SUBSET_TABLES = [
  'OS/2',
  'cmap',
  'cvt ',
  'fpgm',
  'gasp',
  'glyf',
  'head',
  'hhea',
  'hmtx',
  'loca',
  'maxp',
  'name',
  'post',
  'prep',
];
const MAX_COMPONENT_DEPTH = 16;

/**
 * The font with the outlines of only the given glyphs (and .notdef and the parts of composite glyphs);
 * glyph IDs do not change, so cmap, hmtx and an Identity CIDToGIDMap stay right. Other glyphs are empty.
 */
export function subsetFont(font: TrueTypeFont, glyphs: Iterable<number>): Uint8Array {
  const bytes = font.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const glyf = font.tables.get('glyf')!;
  const loca = font.tables.get('loca')!;
  const span = (g: number): [number, number] => {
    const start = font.longLoca
      ? view.getUint32(loca.offset + 4 * g)
      : 2 * view.getUint16(loca.offset + 2 * g);
    const end = font.longLoca
      ? view.getUint32(loca.offset + 4 * g + 4)
      : 2 * view.getUint16(loca.offset + 2 * g + 2);
    if (start > end || end > glyf.length) bad(`glyph ${g} lies outside glyf`);
    return [glyf.offset + start, glyf.offset + end];
  };
  const keep = new Set<number>();
  const visit = (g: number, depth: number) => {
    if (g >= font.numGlyphs || keep.has(g)) return;
    if (depth > MAX_COMPONENT_DEPTH) bad('composite glyphs nested too deeply');
    keep.add(g);
    const [start, end] = span(g);
    if (end - start < 10 || view.getInt16(start) >= 0) return;
    // A composite glyph: its components' outlines must come along.
    let at = start + 10;
    for (;;) {
      if (at + 4 > end) bad(`composite glyph ${g} is truncated`);
      const flags = view.getUint16(at);
      visit(view.getUint16(at + 2), depth + 1);
      at += 4 + (flags & 0x0001 ? 4 : 2) + (flags & 0x0008 ? 2 : flags & 0x0040 ? 4 : flags & 0x0080 ? 8 : 0);
      if (!(flags & 0x0020)) break;
    }
  };
  visit(0, 0);
  for (const g of glyphs) visit(g, 0);

  const newLoca = Buffer.alloc(4 * (font.numGlyphs + 1));
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let g = 0; g < font.numGlyphs; g++) {
    newLoca.writeUInt32BE(offset, 4 * g);
    if (!keep.has(g)) continue;
    const [start, end] = span(g);
    const padded = (end - start + 3) & ~3;
    const data = new Uint8Array(padded);
    data.set(bytes.subarray(start, end));
    parts.push(data);
    offset += padded;
  }
  newLoca.writeUInt32BE(offset, 4 * font.numGlyphs);
  const tables = new Map<string, Uint8Array>();
  for (const tag of SUBSET_TABLES) {
    const t = font.tables.get(tag);
    if (t) tables.set(tag, Uint8Array.from(bytes.subarray(t.offset, t.offset + t.length)));
  }
  tables.set('glyf', Buffer.concat(parts));
  tables.set('loca', newLoca);
  // post version 3 has no glyph names: they only serve PostScript printing and cost tens of KB.
  const post = tables.get('post');
  if (post && post.length >= 32) {
    const short = Buffer.from(post.subarray(0, 32));
    short.writeUInt32BE(0x00030000, 0);
    tables.set('post', short);
  }
  const head = Buffer.from(tables.get('head')!);
  head.writeInt16BE(1, 50);
  head.writeUInt32BE(0, 8);
  tables.set('head', head);
  return writeSfnt(tables);
}

/** Sum of a table as big-endian 32-bit words, zero-padded (the OpenType checksum). */
function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 4)
    sum =
      (sum +
        (((data[i] << 24) | ((data[i + 1] ?? 0) << 16) | ((data[i + 2] ?? 0) << 8) | (data[i + 3] ?? 0)) >>>
          0)) >>>
      0;
  return sum;
}

/** Writes a TrueType file from tables, with checksums and head.checkSumAdjustment set. */
function writeSfnt(tables: Map<string, Uint8Array>): Uint8Array {
  const tags = [...tables.keys()].sort();
  const n = tags.length;
  const entrySelector = Math.floor(Math.log2(n));
  const searchRange = 16 * 2 ** entrySelector;
  let size = 12 + 16 * n;
  for (const tag of tags) size += (tables.get(tag)!.length + 3) & ~3;
  const out = Buffer.alloc(size);
  out.writeUInt32BE(0x00010000, 0);
  out.writeUInt16BE(n, 4);
  out.writeUInt16BE(searchRange, 6);
  out.writeUInt16BE(entrySelector, 8);
  out.writeUInt16BE(16 * n - searchRange, 10);
  let at = 12 + 16 * n;
  let headAt = 0;
  tags.forEach((tag, i) => {
    const data = tables.get(tag)!;
    const entry = 12 + 16 * i;
    out.write(tag, entry, 'latin1');
    out.writeUInt32BE(checksum(data), entry + 4);
    out.writeUInt32BE(at, entry + 8);
    out.writeUInt32BE(data.length, entry + 12);
    out.set(data, at);
    if (tag === 'head') headAt = at;
    at += (data.length + 3) & ~3;
  });
  out.writeUInt32BE((0xb1b0afba - checksum(out)) >>> 0, headAt + 8);
  return new Uint8Array(out);
}
