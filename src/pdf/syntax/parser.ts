import { PdfError } from '../errors.js';
import { Lexer, type Token } from './lexer.js';
import { PdfDict, PdfName, PdfReal, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';

// Objects from tokens (ISO 32000-1 §7.3). Nesting is bounded, a dictionary may not repeat a key (readers
// disagree on which copy wins, so it is an ambiguity an attacker could use) and streams must end where
// their /Length says.

/** How a parse is bounded and whether string positions refer to the file. */
export interface ParseLimits {
  maxDepth: number;
  /** True when the buffer is the file itself, so strings record their span (false inside object streams). */
  inFile: boolean;
  /** What the values read may take in memory, when they are kept. */
  budget?: ParseBudget;
}

/**
 * The memory the objects read from one file may take, estimated per value (a dictionary costs far more
 * than the bytes `<<>>`), so that a file of small containers is refused instead of filling the heap.
 */
export class ParseBudget {
  private left: number;

  constructor(readonly limit: number) {
    this.left = limit;
  }

  spend(bytes: number): void {
    this.left -= bytes;
    if (this.left < 0)
      throw new PdfError(
        'limit',
        `các đối tượng đọc từ tệp sẽ chiếm hơn ${Math.round(this.limit / 2 ** 20)} MiB bộ nhớ / ` +
          `the objects read would take more than ${Math.round(this.limit / 2 ** 20)} MiB of memory`,
      );
  }
}

/** Estimated heap bytes of each kind of value (V8, 64-bit), the slot holding it included. */
const COST = { scalar: 8, boxed: 40, string: 120, array: 40, dict: 200, entry: 56 };

/** Resolves an indirect /Length while a stream is being read. */
export type LengthResolver = (ref: PdfRef) => number;

function fail(message: string, at: number): never {
  throw new PdfError('bad-object', `${message} at offset ${at}`);
}

/** Reads one value; a leading `int int R` becomes a reference. */
export function parseValue(lx: Lexer, limits: ParseLimits, depth = 0): PdfValue {
  return valueFrom(lx, lx.next(), limits, depth);
}

function valueFrom(lx: Lexer, t: Token, limits: ParseLimits, depth: number): PdfValue {
  if (depth > limits.maxDepth) throw new PdfError('limit', `objects nested deeper than ${limits.maxDepth}`);
  const budget = limits.budget;
  switch (t.type) {
    case 'number': {
      if (!t.integer) {
        budget?.spend(COST.boxed);
        return new PdfReal(t.value);
      }
      const ref = referenceAfter(lx, t);
      budget?.spend(ref ? COST.boxed : COST.scalar);
      return ref ?? t.value;
    }
    case 'name':
      budget?.spend(COST.boxed + t.value.length);
      return new PdfName(t.value);
    case 'string':
      budget?.spend(COST.string + t.bytes.length);
      return new PdfString(t.bytes, t.hex, limits.inFile ? { start: t.start, end: t.end } : undefined);
    case 'keyword':
      budget?.spend(COST.scalar);
      if (t.value === 'true') return true;
      if (t.value === 'false') return false;
      if (t.value === 'null') return null;
      return fail(`unexpected keyword ${JSON.stringify(t.value.slice(0, 32))}`, t.start);
    case 'delimiter':
      if (t.value === '[') return readArray(lx, limits, depth);
      if (t.value === '<<') return readDict(lx, limits, depth);
      return fail(`unexpected ${t.value}`, t.start);
    case 'eof':
      return fail('unexpected end of data', t.start);
  }
}

/** `num gen R` after an integer token, or undefined (leaving the lexer where it was). */
function referenceAfter(lx: Lexer, first: Token & { type: 'number' }): PdfRef | undefined {
  const saved = lx.pos;
  const second = lx.next();
  if (second.type !== 'number' || !second.integer) {
    lx.giveBack(saved, second);
    return undefined;
  }
  const r = lx.next();
  if (r.type === 'keyword' && r.value === 'R') {
    if (first.value < 0 || second.value < 0 || second.value > 65535) fail('bad reference', first.start);
    return new PdfRef(first.value, second.value);
  }
  lx.giveBack(saved, second, r);
  return undefined;
}

function readArray(lx: Lexer, limits: ParseLimits, depth: number): PdfValue[] {
  limits.budget?.spend(COST.array);
  const out: PdfValue[] = [];
  while (true) {
    const t = lx.next();
    if (t.type === 'delimiter' && t.value === ']') return out;
    out.push(valueFrom(lx, t, limits, depth + 1));
  }
}

function readDict(lx: Lexer, limits: ParseLimits, depth: number): PdfDict {
  limits.budget?.spend(COST.dict);
  const d = new PdfDict();
  const seen = new Set<string>();
  while (true) {
    const k = lx.next();
    if (k.type === 'delimiter' && k.value === '>>') return d;
    if (k.type === 'eof') fail('unexpected end of data', k.start);
    if (k.type !== 'name') fail('dictionary key is not a name', k.start);
    if (seen.has(k.value)) fail(`dictionary repeats the key /${k.value}`, k.start);
    seen.add(k.value);
    limits.budget?.spend(COST.entry);
    const v = parseValue(lx, limits, depth + 1);
    if (v !== null) d.set(k.value, v);
  }
}

/** An indirect object read from the file, with where it starts and ends. */
export interface IndirectObject {
  ref: PdfRef;
  value: PdfValue;
  start: number;
  end: number;
}

function keyword(lx: Lexer, word: string): void {
  const t = lx.next();
  if (t.type !== 'keyword' || t.value !== word) fail(`expected ${word}`, t.start);
}

/** Reads `num gen obj … endobj` at offset; expected, when given, is the reference the xref promised. */
export function parseIndirectObject(
  buf: Uint8Array,
  offset: number,
  limits: ParseLimits,
  resolveLength: LengthResolver,
  expected?: PdfRef,
): IndirectObject {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= buf.length)
    throw new PdfError('bad-xref', `object offset ${offset} is outside the file`);
  const lx = new Lexer(buf, offset);
  const num = lx.next();
  const gen = lx.next();
  if (num.type !== 'number' || !num.integer || gen.type !== 'number' || !gen.integer)
    throw new PdfError('bad-xref', `no object header at offset ${offset}`);
  keyword(lx, 'obj');
  const ref = new PdfRef(num.value, gen.value);
  if (expected && (expected.num !== ref.num || expected.gen !== ref.gen))
    throw new PdfError('bad-xref', `offset ${offset} holds object ${ref.key}, not ${expected.key}`);
  let value = parseValue(lx, limits);
  const after = lx.next();
  if (after.type === 'keyword' && after.value === 'stream') {
    if (!(value instanceof PdfDict)) fail('stream without a dictionary', after.start);
    value = readStreamData(lx, value, after.end, resolveLength);
    keyword(lx, 'endobj');
  } else if (after.type !== 'keyword' || after.value !== 'endobj') fail('expected endobj', after.start);
  return { ref, value, start: offset, end: lx.pos };
}

/** The data after the `stream` keyword: CRLF or LF, /Length bytes, an optional EOL, `endstream`. */
function readStreamData(lx: Lexer, d: PdfDict, keywordEnd: number, resolveLength: LengthResolver): PdfStream {
  const { buf } = lx;
  let start = keywordEnd;
  if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  else if (buf[start] === 0x0a) start += 1;
  else fail('stream keyword not followed by an end of line', keywordEnd);
  const lengthValue = d.get('Length');
  const length = lengthValue instanceof PdfRef ? resolveLength(lengthValue) : lengthValue;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0)
    throw new PdfError('bad-stream', `stream at offset ${start} has no valid /Length`);
  const end = start + length;
  if (end > lx.end)
    throw new PdfError('bad-stream', `stream at offset ${start} runs past the end of the file`);
  lx.pos = end;
  const t = lx.next();
  if (t.type !== 'keyword' || t.value !== 'endstream')
    throw new PdfError('bad-stream', `stream at offset ${start} does not end where its /Length says`);
  return new PdfStream(d, buf.subarray(start, end));
}

/** Reads the header of a direct value at offset without parsing the rest, for "is an object here". */
export function objectHeaderAt(buf: Uint8Array, offset: number): PdfRef | undefined {
  if (offset < 0 || offset >= buf.length) return undefined;
  try {
    const lx = new Lexer(buf, offset, Math.min(buf.length, offset + 64));
    const num = lx.next();
    const gen = lx.next();
    const obj = lx.next();
    if (num.type === 'number' && num.integer && gen.type === 'number' && gen.integer)
      if (obj.type === 'keyword' && obj.value === 'obj') return new PdfRef(num.value, gen.value);
  } catch {
    return undefined;
  }
  return undefined;
}
