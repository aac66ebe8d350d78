import { PdfError } from '../errors.js';

// PDF tokens (ISO 32000-1 §7.2, §7.3): one pass over the bytes with no backtracking beyond a saved
// position, so a hostile file costs time linear in its size.

/** One token and where it lies in the buffer. */
export type Token =
  | { type: 'number'; value: number; integer: boolean; start: number; end: number }
  | { type: 'name'; value: string; start: number; end: number }
  | { type: 'string'; bytes: Uint8Array; hex: boolean; start: number; end: number }
  | { type: 'delimiter'; value: '[' | ']' | '<<' | '>>' | '{' | '}'; start: number; end: number }
  | { type: 'keyword'; value: string; start: number; end: number }
  | { type: 'eof'; start: number; end: number };

const WHITESPACE = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WHITESPACE[c] = 1;
const DELIMITER = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIMITER[c.charCodeAt(0)] = 1;

/** Whether a byte is PDF white space. */
export const isWhitespace = (c: number) => WHITESPACE[c] === 1;
/** Whether a byte ends a name, number or keyword. */
const isRegular = (c: number) => WHITESPACE[c] === 0 && DELIMITER[c] === 0;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const MAX_NAME = 1024;
const MAX_KEYWORD = 256;
/** Longest string, as a stream's decoded data is bounded: signatures and texts are far shorter. */
export const MAX_STRING = 64 * 1024 * 1024;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** A growable byte buffer for strings and names, which are usually short. */
class Bytes {
  private buf = new Uint8Array(64);
  length = 0;

  push(b: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }

  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads tokens from buf between pos and end. */
export class Lexer {
  pos: number;
  /** Up to two tokens read ahead and given back, each with the position it was read from. */
  private ahead1?: Token;
  private ahead1From = -1;
  private ahead2?: Token;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  private fail(message: string, at = this.pos): never {
    throw new PdfError('syntax', `${message} at offset ${at}`);
  }

  /** Skips white space and comments. */
  skipSpace(): void {
    const { buf, end } = this;
    let p = this.pos;
    while (p < end) {
      const c = buf[p];
      if (WHITESPACE[c]) p++;
      else if (c === 0x25) {
        while (p < end && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
      } else break;
    }
    this.pos = p;
  }

  /**
   * Moves back to pos after reading one or two tokens from there, keeping them so they are not read
   * again: a parser's look-ahead (is `1 0` the start of `1 0 R`?) then costs nothing on a run of numbers.
   */
  giveBack(pos: number, first: Token, second?: Token): void {
    this.ahead1 = first;
    this.ahead1From = pos;
    this.ahead2 = second;
    this.pos = pos;
  }

  /** The next token, or an eof token at the end. */
  next(): Token {
    const kept = this.ahead1;
    if (kept) {
      this.ahead1 = undefined;
      // Only while nobody has moved the position elsewhere in between.
      if (this.ahead1From === this.pos) {
        this.pos = kept.end;
        if (this.ahead2) {
          this.ahead1 = this.ahead2;
          this.ahead1From = kept.end;
          this.ahead2 = undefined;
        }
        return kept;
      }
      this.ahead2 = undefined;
    }
    this.skipSpace();
    const { buf } = this;
    const start = this.pos;
    if (start >= this.end) return { type: 'eof', start, end: start };
    const c = buf[start];
    switch (c) {
      case 0x2f:
        return this.readName(start);
      case 0x28:
        return this.readLiteral(start);
      case 0x3c:
        if (buf[start + 1] === 0x3c) {
          this.pos = start + 2;
          return { type: 'delimiter', value: '<<', start, end: this.pos };
        }
        return this.readHex(start);
      case 0x3e:
        if (buf[start + 1] !== 0x3e) this.fail('stray ">"');
        this.pos = start + 2;
        return { type: 'delimiter', value: '>>', start, end: this.pos };
      case 0x5b:
      case 0x5d:
      case 0x7b:
      case 0x7d:
        this.pos = start + 1;
        return { type: 'delimiter', value: String.fromCharCode(c) as '[', start, end: this.pos };
      case 0x29:
        this.fail('stray ")"');
    }
    return this.readWord(start);
  }

  /** A number or a keyword: a run of regular characters. */
  private readWord(start: number): Token {
    const { buf, end } = this;
    let p = start;
    // Plain integers, most of what a file holds, are read without making a string.
    let digits = 0;
    let value = 0;
    const sign = buf[p] === 0x2d ? -1 : 1;
    if (buf[p] === 0x2b || buf[p] === 0x2d) p++;
    while (p < end && buf[p] >= 0x30 && buf[p] <= 0x39 && digits < 15) {
      value = value * 10 + buf[p++] - 0x30;
      digits++;
    }
    if (digits > 0 && (p >= end || !isRegular(buf[p]))) {
      this.pos = p;
      return { type: 'number', value: sign * value, integer: true, start, end: p };
    }
    while (p < end && isRegular(buf[p])) {
      p++;
      if (p - start > MAX_KEYWORD) this.fail('token too long', start);
    }
    this.pos = p;
    const text = latin1(buf, start, p);
    if (NUMBER.test(text)) {
      const n = Number(text);
      const integer = !text.includes('.');
      if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n)))
        this.fail('number out of range', start);
      return { type: 'number', value: n, integer, start, end: p };
    }
    return { type: 'keyword', value: text, start, end: p };
  }

  private readName(start: number): Token {
    const out = new Bytes();
    let p = start + 1;
    while (p < this.end && isRegular(this.buf[p])) {
      let c = this.buf[p++];
      if (c === 0x23) {
        const hi = hexValue(this.buf[p]);
        const lo = hexValue(this.buf[p + 1]);
        if (p + 1 >= this.end || hi < 0 || lo < 0) this.fail('bad #xx escape in name', p - 1);
        c = hi * 16 + lo;
        p += 2;
      }
      if (out.length === MAX_NAME) this.fail('name too long', start);
      out.push(c);
    }
    this.pos = p;
    return { type: 'name', value: latin1(out.take(), 0, out.length), start, end: p };
  }

  private readLiteral(start: number): Token {
    const { buf, end } = this;
    const out = new Bytes();
    let depth = 1;
    let p = start + 1;
    while (true) {
      if (p >= end) this.fail('unterminated string', start);
      let c = buf[p++];
      if (c === 0x28) depth++;
      else if (c === 0x29) {
        if (--depth === 0) break;
      } else if (c === 0x0d) {
        // An unescaped end of line is a line feed, whatever its form (§7.3.4.2).
        if (buf[p] === 0x0a) p++;
        c = 0x0a;
      } else if (c === 0x5c) {
        if (p >= end) this.fail('unterminated string', start);
        const e = buf[p++];
        const simple = ESCAPES[e];
        if (simple !== undefined) c = simple;
        else if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let i = 0; i < 2 && buf[p] >= 0x30 && buf[p] <= 0x37; i++) v = v * 8 + buf[p++] - 0x30;
          c = v & 0xff;
        } else if (e === 0x0d || e === 0x0a) {
          if (e === 0x0d && buf[p] === 0x0a) p++;
          continue;
        } else c = e;
      }
      if (out.length === MAX_STRING) throw new PdfError('limit', tooLongString(start));
      out.push(c);
    }
    this.pos = p;
    return { type: 'string', bytes: out.take(), hex: false, start, end: p };
  }

  private readHex(start: number): Token {
    const close = this.buf.indexOf(0x3e, start + 1);
    if (close < 0 || close >= this.end) this.fail('unterminated hex string', start);
    if (close - start > 2 * MAX_STRING + 1) throw new PdfError('limit', tooLongString(start));
    const out = new Uint8Array((close - start) >> 1);
    let n = 0;
    let high = -1;
    for (let p = start + 1; p < close; p++) {
      const c = this.buf[p];
      if (WHITESPACE[c]) continue;
      const v = hexValue(c);
      if (v < 0) this.fail('bad character in hex string', p);
      if (high < 0) high = v;
      else {
        out[n++] = high * 16 + v;
        high = -1;
      }
    }
    // An odd final digit is followed by an implied 0 (§7.3.4.3).
    if (high >= 0) out[n++] = high * 16;
    this.pos = close + 1;
    return { type: 'string', bytes: out.subarray(0, n), hex: true, start, end: close + 1 };
  }
}

const ESCAPES: Record<number, number> = {
  110: 0x0a,
  114: 0x0d,
  116: 0x09,
  98: 0x08,
  102: 0x0c,
  40: 0x28,
  41: 0x29,
  92: 0x5c,
};

/** The refusal of an over-long string, in Vietnamese and English as the command line speaks. */
const tooLongString = (at: number) =>
  `chuỗi tại vị trí ${at} dài hơn ${MAX_STRING} byte / string at offset ${at} is longer than ${MAX_STRING} bytes`;

/** Bytes as a latin1 string. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // Keywords and names are short: building them directly is cheaper than a Buffer view per token.
  if (end - start <= 16) {
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]);
    return text;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
