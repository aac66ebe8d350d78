import { PdfError } from '../errors.js';
import { decodeStream } from './filters.js';
import { isWhitespace, Lexer } from './lexer.js';
import { isName, PdfDict, PdfStream, type PdfValue } from './objects.js';
import { objectHeaderAt, parseIndirectObject, parseValue } from './parser.js';

// Cross-reference sections (ISO 32000-1 §7.5.4, §7.5.8): classic tables, cross-reference streams and
// hybrid files whose table names a stream in /XRefStm, followed along /Prev from the last startxref.

/** Where an object lives, as one section says. */
export type XrefEntry =
  | { type: 'free' }
  | { type: 'offset'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number };

/** One cross-reference section and its trailer. */
export interface XrefSection {
  /** The offset startxref or /Prev gave for it. */
  offset: number;
  /** Where it begins: the offset, past any white space before it. */
  start: number;
  kind: 'table' | 'stream';
  trailer: PdfDict;
  entries: Map<number, XrefEntry>;
  /** Where the section ends: after the trailer dictionary, or after the stream's endobj. */
  end: number;
  /** The furthest byte it was read from: its end, or a hybrid table's /XRefStm stream's. */
  reach: number;
}

/** Bounds on reading the chain. */
export interface XrefLimits {
  maxEntries: number;
  maxSections: number;
  maxDepth: number;
  maxStreamBytes: number;
}

/** Most white-space bytes skipped between a cross-reference offset and the `xref` keyword. */
const MAX_OFFSET_SLACK = 16;

/**
 * Where a section given at an offset begins: other tools' offsets may be off by a few white-space bytes
 * (the line end before `xref`), which pyHanko and Adobe accept. Sections are told apart by where they
 * begin, so two offsets of one section name the same revision.
 */
export function sectionStart(buf: Uint8Array, offset: number): number {
  let at = offset;
  while (at < buf.length && at - offset < MAX_OFFSET_SLACK && isWhitespace(buf[at])) at++;
  return at;
}

function bad(message: string): never {
  throw new PdfError('bad-xref', message);
}

/** An integer entry of a trailer or xref stream dictionary, which must be direct. */
function directInt(d: PdfDict, key: string): number | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    bad(`/${key} is not a non-negative integer`);
  return v;
}

/** Reads the sections from startxref along /Prev, newest first; a repeated offset is a cycle. */
export function readXrefChain(buf: Uint8Array, startxref: number, limits: XrefLimits): XrefSection[] {
  const sections: XrefSection[] = [];
  const seen = new Set<number>();
  const budget = { entries: limits.maxEntries };
  let offset: number | undefined = startxref;
  while (offset !== undefined) {
    if (seen.has(offset))
      throw new PdfError('cycle', `cross-reference /Prev chain loops at offset ${offset}`);
    if (sections.length === limits.maxSections)
      throw new PdfError(
        'limit',
        `hơn ${limits.maxSections} phiên bản (bảng tham chiếu chéo) / more than ${limits.maxSections} cross-reference sections`,
      );
    seen.add(offset);
    const section = readSection(buf, offset, limits, budget);
    sections.push(section);
    offset = directInt(section.trailer, 'Prev');
  }
  return sections;
}

function readSection(
  buf: Uint8Array,
  offset: number,
  limits: XrefLimits,
  budget: { entries: number },
): XrefSection {
  if (!Number.isSafeInteger(offset) || offset >= buf.length)
    bad(`cross-reference offset ${offset} is outside the file`);
  const at = sectionStart(buf, offset);
  if (
    Buffer.from(buf.buffer, buf.byteOffset + at, Math.min(4, buf.length - at)).toString('latin1') === 'xref'
  )
    return readTable(buf, offset, at, limits, budget);
  if (objectHeaderAt(buf, offset)) return readStream(buf, offset, limits, budget);
  return bad(`no cross-reference section at offset ${offset}`);
}

function spend(budget: { entries: number }, n: number, limits: XrefLimits): void {
  budget.entries -= n;
  if (budget.entries < 0)
    throw new PdfError('limit', `more than ${limits.maxEntries} cross-reference entries`);
}

function readTable(
  buf: Uint8Array,
  offset: number,
  keyword: number,
  limits: XrefLimits,
  budget: { entries: number },
): XrefSection {
  const lx = new Lexer(buf, keyword + 4);
  const inUse = new Map<number, XrefEntry>();
  const free = new Map<number, XrefEntry>();
  while (true) {
    const t = lx.next();
    if (t.type === 'keyword' && t.value === 'trailer') break;
    const count = lx.next();
    if (
      t.type !== 'number' ||
      !t.integer ||
      count.type !== 'number' ||
      !count.integer ||
      t.value < 0 ||
      count.value < 0
    )
      bad(`bad cross-reference subsection at offset ${t.start}`);
    spend(budget, count.value, limits);
    for (let i = 0; i < count.value; i++) {
      const o = lx.next();
      const g = lx.next();
      const kind = lx.next();
      if (o.type !== 'number' || !o.integer || g.type !== 'number' || !g.integer || kind.type !== 'keyword')
        bad(`bad cross-reference entry at offset ${o.start}`);
      const num = t.value + i;
      if (inUse.has(num) || free.has(num)) bad(`object ${num} appears twice in one cross-reference table`);
      if (kind.value === 'n') inUse.set(num, { type: 'offset', offset: o.value, gen: g.value });
      else if (kind.value === 'f') free.set(num, { type: 'free' });
      else bad(`bad cross-reference entry type at offset ${kind.start}`);
    }
  }
  const trailer = parseValue(lx, { maxDepth: limits.maxDepth, inFile: true });
  const end = lx.pos;
  if (!(trailer instanceof PdfDict)) bad('trailer is not a dictionary');
  // Hybrid file (§7.5.8.4): the table's objects first, then its stream's, then free entries.
  const entries = new Map(inUse);
  let reach = end;
  const stm = directInt(trailer, 'XRefStm');
  if (stm !== undefined) {
    const hidden = readStream(buf, stm, limits, budget);
    for (const [num, e] of hidden.entries) if (!entries.has(num)) entries.set(num, e);
    reach = Math.max(reach, hidden.end);
  }
  for (const [num, e] of free) if (!entries.has(num)) entries.set(num, e);
  return { offset, start: keyword, kind: 'table', trailer, entries, end, reach };
}

function readStream(
  buf: Uint8Array,
  offset: number,
  limits: XrefLimits,
  budget: { entries: number },
): XrefSection {
  const obj = parseIndirectObject(buf, offset, { maxDepth: limits.maxDepth, inFile: true }, () =>
    bad('a cross-reference stream needs a direct /Length'),
  );
  const stream = obj.value;
  if (!(stream instanceof PdfStream) || !isName(stream.dict.get('Type'), 'XRef'))
    bad(`object at offset ${offset} is not a cross-reference stream`);
  const d = stream.dict;
  const size = directInt(d, 'Size');
  if (size === undefined) bad('cross-reference stream without /Size');
  const w = intArray(d.get('W'), 'W');
  if (w.length !== 3 || w.some((n) => n > 8)) bad('bad /W in cross-reference stream');
  const index = d.has('Index') ? intArray(d.get('Index'), 'Index') : [0, size];
  if (index.length % 2) bad('bad /Index in cross-reference stream');
  const total = index.reduce((n, v, i) => (i % 2 ? n + v : n), 0);
  spend(budget, total, limits);
  const rowBytes = w[0] + w[1] + w[2];
  const data = decodeStream(stream, Math.min(limits.maxStreamBytes, total * rowBytes + 1024));
  if (data.length < total * rowBytes) bad('cross-reference stream is shorter than its /Index says');
  const entries = new Map<number, XrefEntry>();
  let pos = 0;
  const field = (width: number, fallback: number) => {
    if (width === 0) return fallback;
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[pos++];
    return v;
  };
  for (let s = 0; s < index.length; s += 2) {
    for (let i = 0; i < index[s + 1]; i++) {
      const num = index[s] + i;
      const type = field(w[0], 1);
      const a = field(w[1], 0);
      const b = field(w[2], 0);
      if (entries.has(num)) bad(`object ${num} appears twice in one cross-reference stream`);
      // Unknown types are references to the null object (§7.5.8.3).
      if (type === 1) entries.set(num, { type: 'offset', offset: a, gen: b });
      else if (type === 2) entries.set(num, { type: 'compressed', stream: a, index: b });
      else entries.set(num, { type: 'free' });
    }
  }
  return {
    offset,
    start: sectionStart(buf, offset),
    kind: 'stream',
    trailer: d,
    entries,
    end: obj.end,
    reach: obj.end,
  };
}

function intArray(v: PdfValue | undefined, key: string): number[] {
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0))
    bad(`/${key} is not an array of non-negative integers`);
  return v as number[];
}
