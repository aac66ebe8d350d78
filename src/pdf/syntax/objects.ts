import { PdfError } from '../errors.js';

// The PDF object model (ISO 32000-1 §7.3) as Kyso reads and writes it. Integers are JS numbers and reals
// are PdfReal, so a field that must be an integer (an offset, a ByteRange entry) can insist on one.

/** A name object, e.g. /Sig; value is its bytes after #xx decoding, as latin1. */
export class PdfName {
  constructor(readonly value: string) {}
}

/** A real number, kept apart from integers. */
export class PdfReal {
  constructor(readonly value: number) {}
}

/** A string object; span is where it lies in the file when it was read from the file itself. */
export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
    readonly span?: { start: number; end: number },
  ) {}
}

/** An indirect reference `num gen R`. */
export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}

  /** "num gen", for maps and messages. */
  get key(): string {
    return `${this.num} ${this.gen}`;
  }
}

/** A dictionary; entries whose value is null are absent (§7.3.7). */
export class PdfDict {
  readonly entries: Map<string, PdfValue>;

  constructor(entries?: Iterable<[string, PdfValue]>) {
    this.entries = new Map(entries);
  }

  get(key: string): PdfValue | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: PdfValue): this {
    this.entries.set(key, value);
    return this;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** A shallow copy, to change an object in a new revision without touching the parsed one. */
  copy(): PdfDict {
    return new PdfDict(this.entries);
  }
}

/** A stream: its dictionary and its still-encoded data. */
export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    readonly data: Uint8Array,
  ) {}
}

/** Any PDF object; arrays are plain arrays. */
export type PdfValue =
  | null
  | boolean
  | number
  | PdfReal
  | PdfName
  | PdfString
  | PdfRef
  | PdfDict
  | PdfStream
  | PdfValue[];

/** A name object. */
export const name = (value: string) => new PdfName(value);

/** A dictionary from a record; undefined values are left out. */
export function dict(record: Record<string, PdfValue | undefined>): PdfDict {
  const d = new PdfDict();
  for (const [k, v] of Object.entries(record)) if (v !== undefined && v !== null) d.set(k, v);
  return d;
}

/** Whether a value is the name given. */
export function isName(v: PdfValue | undefined, value?: string): v is PdfName {
  return v instanceof PdfName && (value === undefined || v.value === value);
}

/** The value of a number, integer or real. */
export function numberValue(v: PdfValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PdfReal) return v.value;
  return undefined;
}

// ---------------------------------------------------------------- writing

/** Text gathered before it becomes one chunk of bytes: many small pieces, few allocations. */
const TEXT_CHUNK = 64 * 1024;

/** Appends latin1 text and bytes, tracking the length, and joins them once. */
export class ByteWriter {
  private parts: Uint8Array[] = [];
  private pending = '';
  length = 0;

  text(s: string): this {
    this.pending += s;
    this.length += s.length;
    if (this.pending.length >= TEXT_CHUNK) this.flush();
    return this;
  }

  bytes(b: Uint8Array): this {
    this.flush();
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  private flush(): void {
    if (!this.pending) return;
    this.parts.push(Buffer.from(this.pending, 'latin1'));
    this.pending = '';
  }

  /** The bytes written so far, as one array. */
  toBytes(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let pos = 0;
    for (const p of this.parts) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }
}

const NAME_PLAIN = /^[!-~]$/;
const NAME_SPECIAL = new Set('()<>[]{}/%#');

/** A name as written, with #xx for delimiters, white space, '#' and bytes outside printable ASCII. */
export function formatName(value: string): string {
  let out = '/';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (code > 0xff) throw new PdfError('bad-input', 'a name holds bytes, not Unicode');
    out +=
      NAME_PLAIN.test(ch) && !NAME_SPECIAL.has(ch)
        ? ch
        : `#${code.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** A number as written: integers as they are, reals in fixed notation (PDF has no exponents). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new PdfError('bad-input', 'numbers must be finite');
  if (Number.isInteger(n)) {
    if (!Number.isSafeInteger(n)) throw new PdfError('bad-input', 'integer out of range');
    return String(n);
  }
  const fixed = n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** A string as written: literal when it is printable ASCII, else hexadecimal. */
export function formatString(s: PdfString): string {
  const b = Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length);
  let printable = !s.hex;
  let escapes = 0;
  for (let i = 0; i < b.length && printable; i++) {
    const c = b[i];
    if (c < 0x20 || c > 0x7e) printable = false;
    else if (c === 0x28 || c === 0x29 || c === 0x5c) escapes++;
  }
  if (!printable) return `<${b.toString('hex').toUpperCase()}>`;
  if (escapes === 0) return `(${b.toString('latin1')})`;
  // One pass into a buffer of the final size: no per-match work however many parentheses there are.
  const out = Buffer.allocUnsafe(b.length + escapes + 2);
  let o = 0;
  out[o++] = 0x28;
  for (const c of b) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) out[o++] = 0x5c;
    out[o++] = c;
  }
  out[o] = 0x29;
  return out.toString('latin1');
}

const MAX_WRITE_DEPTH = 64;

/** Writes a direct value; streams are written by the incremental writer, not inside other objects. */
export function writeValue(out: ByteWriter, v: PdfValue, depth = 0): void {
  if (depth > MAX_WRITE_DEPTH) throw new PdfError('limit', 'object nested too deeply to write');
  if (v === null) out.text('null');
  else if (typeof v === 'boolean') out.text(v ? 'true' : 'false');
  else if (typeof v === 'number') out.text(formatNumber(v));
  else if (v instanceof PdfReal) out.text(formatNumber(v.value));
  else if (v instanceof PdfName) out.text(formatName(v.value));
  else if (v instanceof PdfString) out.text(formatString(v));
  else if (v instanceof PdfRef) out.text(`${v.num} ${v.gen} R`);
  else if (Array.isArray(v)) {
    out.text('[');
    v.forEach((item, i) => {
      if (i) out.text(' ');
      writeValue(out, item, depth + 1);
    });
    out.text(']');
  } else if (v instanceof PdfDict) {
    out.text('<<');
    for (const [k, item] of v.entries) {
      out.text(` ${formatName(k)} `);
      writeValue(out, item, depth + 1);
    }
    out.text(' >>');
  } else throw new PdfError('bad-input', 'a stream cannot be written as a direct object');
}
