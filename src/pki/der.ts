import { PkiError } from './errors.js';

// A small DER codec: encoders are plain functions returning bytes, so building a certificate is a
// handful of allocations; the decoder walks offsets into the input and never copies it.

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  numericString: 0x12,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  visibleString: 0x1a,
  universalString: 0x1c,
  bmpString: 0x1e,
} as const;

// ---------------------------------------------------------------- encoding

/** Bytes a DER length field takes for a content length. */
export function lengthSize(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  if (length < 0x10000) return 3;
  if (length < 0x1000000) return 4;
  return 5;
}

/** Bytes a whole TLV takes for a content length (single-byte tags only). */
export function tlvSize(length: number): number {
  return 1 + lengthSize(length) + length;
}

/** Writes a tag and length at pos and returns the offset of the contents. */
export function writeHeader(out: Uint8Array, pos: number, tag: number, length: number): number {
  out[pos++] = tag;
  if (length < 0x80) {
    out[pos++] = length;
    return pos;
  }
  const n = lengthSize(length) - 1;
  out[pos++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) out[pos++] = Math.floor(length / 2 ** (8 * i)) & 0xff;
  return pos;
}

/** Encodes a TLV from a tag and its contents. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(tlvSize(content.length));
  out.set(content, writeHeader(out, 0, tag, content.length));
  return out;
}

/** Encodes a TLV whose contents are the given parts, concatenated. */
export function tlvOf(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(tlvSize(length));
  let pos = writeHeader(out, 0, tag, length);
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Encodes a SEQUENCE. */
export function sequence(...parts: Uint8Array[]): Uint8Array {
  return tlvOf(TAG.sequence, parts);
}

/** Encodes a SET OF, sorting the elements as DER requires. */
export function setOf(parts: Uint8Array[]): Uint8Array {
  return tlvOf(TAG.set, parts.length > 1 ? [...parts].sort(compareBytes) : parts);
}

/** Byte-wise order with shorter-is-smaller, the DER SET OF order. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Encodes an explicitly tagged [n] value. */
export function explicit(n: number, ...parts: Uint8Array[]): Uint8Array {
  return tlvOf(0xa0 | n, parts);
}

/** Encodes an implicitly tagged primitive [n] value from its contents. */
export function implicit(n: number, content: Uint8Array): Uint8Array {
  return tlv(0x80 | n, content);
}

export const DER_NULL = Uint8Array.of(TAG.null, 0);
export const DER_TRUE = Uint8Array.of(TAG.boolean, 1, 0xff);

/** Strips redundant leading zeros and adds one where the top bit would make the INTEGER negative. */
function positiveIntegerContent(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const body = magnitude.subarray(i);
  if (body.length === 0) return Uint8Array.of(0);
  if (body[0] & 0x80) {
    const out = new Uint8Array(body.length + 1);
    out.set(body, 1);
    return out;
  }
  return body;
}

/** Encodes a non-negative INTEGER from big-endian magnitude bytes. */
function integerFromBytes(magnitude: Uint8Array): Uint8Array {
  return tlv(TAG.integer, positiveIntegerContent(magnitude));
}

/** Encodes a non-negative INTEGER. */
export function integer(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) throw new PkiError('bad-integer', 'negative integers are not encoded');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return integerFromBytes(Uint8Array.from(bytes));
}

/** Encodes an ENUMERATED with a small value. */
export function enumerated(value: number): Uint8Array {
  return Uint8Array.of(TAG.enumerated, 1, value);
}

/** Encodes an OCTET STRING. */
export function octetString(content: Uint8Array): Uint8Array {
  return tlv(TAG.octetString, content);
}

/** Encodes a BIT STRING of whole bytes, or with the given number of unused trailing bits. */
export function bitString(content: Uint8Array, unusedBits = 0): Uint8Array {
  const out = new Uint8Array(tlvSize(content.length + 1));
  const pos = writeHeader(out, 0, TAG.bitString, content.length + 1);
  out[pos] = unusedBits;
  out.set(content, pos + 1);
  return out;
}

const oidCache = new Map<string, Uint8Array>();

/** Encodes an OBJECT IDENTIFIER from dotted form (cached: callers must not modify the result). */
export function oid(dotted: string): Uint8Array {
  let out = oidCache.get(dotted);
  if (!out) {
    out = tlv(TAG.oid, oidContent(dotted));
    if (oidCache.size < 4096) oidCache.set(dotted, out);
  }
  return out;
}

function oidContent(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new PkiError('bad-oid', `not an OID: ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs[0] < 2n && arcs[1] > 39n) throw new PkiError('bad-oid', `not an OID: ${dotted}`);
  const bytes: number[] = [];
  const push = (arc: bigint) => {
    const chunk = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return Uint8Array.from(bytes);
}

/** Encodes a string as UTF8String. */
export function utf8String(text: string): Uint8Array {
  return tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/** Encodes an ASCII string with the given string tag (callers check the character set). */
export function asciiString(tag: number, text: string): Uint8Array {
  return tlv(tag, Buffer.from(text, 'latin1'));
}

/** Encodes a Time: UTCTime for 1950–2049, GeneralizedTime otherwise, in whole seconds. */
export function time(date: Date): Uint8Array {
  const out = new Uint8Array(17);
  return out.subarray(0, writeTime(out, 0, date.getTime()));
}

/** Writes a Time TLV for epoch milliseconds at pos and returns the end offset. */
export function writeTime(out: Uint8Array, pos: number, ms: number): number {
  if (!Number.isFinite(ms)) throw new PkiError('bad-time', 'invalid date');
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new PkiError('bad-time', `year ${year} cannot be encoded`);
  const utc = year >= 1950 && year < 2050;
  out[pos++] = utc ? TAG.utcTime : TAG.generalizedTime;
  out[pos++] = utc ? 13 : 15;
  if (!utc) pos = digits2(out, pos, Math.floor(year / 100));
  pos = digits2(out, pos, year % 100);
  pos = digits2(out, pos, d.getUTCMonth() + 1);
  pos = digits2(out, pos, d.getUTCDate());
  pos = digits2(out, pos, d.getUTCHours());
  pos = digits2(out, pos, d.getUTCMinutes());
  pos = digits2(out, pos, d.getUTCSeconds());
  out[pos++] = 0x5a; // 'Z'
  return pos;
}

function digits2(out: Uint8Array, pos: number, n: number): number {
  out[pos] = 0x30 + Math.floor(n / 10);
  out[pos + 1] = 0x30 + (n % 10);
  return pos + 2;
}

// ---------------------------------------------------------------- decoding

/** One decoded TLV: offsets into the input it was read from. */
export interface Tlv {
  tag: number;
  start: number;
  body: number;
  end: number;
  depth: number;
}

export const MAX_DEPTH = 32;

function malformed(message: string): never {
  throw new PkiError('malformed-der', message);
}

/** Reads one definite-length TLV at pos that must end by limit. */
export function readTlv(buf: Uint8Array, pos: number, limit: number, depth: number): Tlv {
  if (depth > MAX_DEPTH) malformed('nested too deeply');
  if (pos + 2 > limit) malformed('truncated');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) malformed('multi-byte tags are not supported');
  let length = buf[pos + 1];
  let body = pos + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) malformed('indefinite length');
    if (n > 4) malformed('length too large');
    if (body + n > limit) malformed('truncated');
    if (buf[body] === 0) malformed('non-minimal length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[body + i];
    if (length < 0x80) malformed('non-minimal length');
    body += n;
  }
  const end = body + length;
  if (end > limit) malformed('truncated');
  return { tag, start: pos, body, end, depth };
}

/** Decodes a whole DER value: one TLV filling the input, no larger than maxBytes. */
export function decodeDer(buf: Uint8Array, maxBytes: number): Tlv {
  if (buf.length > maxBytes)
    throw new PkiError('too-large', `input of ${buf.length} bytes exceeds ${maxBytes}`);
  const t = readTlv(buf, 0, buf.length, 0);
  if (t.end !== buf.length) malformed('trailing bytes');
  return t;
}

/** The TLVs inside a constructed TLV, which must fill it exactly. */
export function children(buf: Uint8Array, t: Tlv): Tlv[] {
  if (!(t.tag & 0x20)) malformed(`tag 0x${t.tag.toString(16)} is not constructed`);
  const out: Tlv[] = [];
  for (let pos = t.body; pos < t.end; ) {
    const c = readTlv(buf, pos, t.end, t.depth + 1);
    out.push(c);
    pos = c.end;
  }
  return out;
}

/** Checks a TLV's tag; what names the field in the error. */
export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) malformed(`${what}: missing`);
  if (t.tag !== tag) malformed(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** The contents of a TLV (a view, not a copy). */
export function contentOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.body, t.end);
}

/** The whole encoding of a TLV (a view, not a copy). */
export function bytesOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

/** Decodes OBJECT IDENTIFIER contents to dotted form. */
export function readOid(content: Uint8Array): string {
  if (content.length === 0 || content.length > 256) malformed('bad OID length');
  if (content[content.length - 1] & 0x80) malformed('truncated OID');
  const arcs: string[] = [];
  let value = 0n;
  let small = 0;
  let bytesInArc = 0;
  for (const b of content) {
    if (bytesInArc === 0 && b === 0x80) malformed('non-minimal OID arc');
    bytesInArc++;
    if (bytesInArc <= 7) small = small * 128 + (b & 0x7f);
    else {
      if (bytesInArc === 8) value = BigInt(small);
      value = value * 128n + BigInt(b & 0x7f);
    }
    if (!(b & 0x80)) {
      const arc = bytesInArc <= 7 ? BigInt(small) : value;
      if (arcs.length === 0) {
        const first = arc < 80n ? arc / 40n : 2n;
        arcs.push(first.toString(), (arc - first * 40n).toString());
      } else arcs.push(arc.toString());
      small = 0;
      bytesInArc = 0;
    }
  }
  return arcs.join('.');
}

/** Decodes INTEGER contents, requiring the minimal encoding. */
export function readInteger(content: Uint8Array): bigint {
  if (content.length === 0) malformed('empty INTEGER');
  if (
    content.length > 1 &&
    ((content[0] === 0 && !(content[1] & 0x80)) || (content[0] === 0xff && content[1] & 0x80))
  )
    malformed('non-minimal INTEGER');
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (content[0] & 0x80) v -= 1n << BigInt(8 * content.length);
  return v;
}

/** Decodes a small non-negative INTEGER or ENUMERATED. */
export function readSmallInt(content: Uint8Array): number {
  const v = readInteger(content);
  if (v < 0n || v > 0xffffffffn) malformed('integer out of range');
  return Number(v);
}

/** Decodes BOOLEAN contents (DER: 0x00 or 0xFF). */
export function readBoolean(content: Uint8Array): boolean {
  if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) malformed('bad BOOLEAN');
  return content[0] === 0xff;
}

/** Decodes BIT STRING contents into the unused-bit count and the bytes. */
export function readBitString(content: Uint8Array): { unusedBits: number; bytes: Uint8Array } {
  if (content.length === 0 || content[0] > 7 || (content.length === 1 && content[0] !== 0))
    malformed('bad BIT STRING');
  return { unusedBits: content[0], bytes: content.subarray(1) };
}

/** Decodes a UTCTime or GeneralizedTime in the DER form (seconds, 'Z'). */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(buf.buffer, buf.byteOffset + t.body, t.end - t.body).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAG.utcTime) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) malformed(`bad UTCTime ${JSON.stringify(s)}`);
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (t.tag === TAG.generalizedTime) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d*[1-9])?Z$/.exec(s);
    if (!m) malformed(`bad GeneralizedTime ${JSON.stringify(s)}`);
    year = Number(m[1]);
  } else malformed('expected a Time');
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (year < 100) date.setUTCFullYear(year);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59)
    malformed(`bad time ${JSON.stringify(s)}`);
  return date;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a directory string of any of the usual string types. */
export function readString(buf: Uint8Array, t: Tlv): string {
  const c = contentOf(buf, t);
  const b = Buffer.from(c.buffer, c.byteOffset, c.length);
  switch (t.tag) {
    case TAG.utf8String:
      try {
        return utf8.decode(c);
      } catch {
        return malformed('bad UTF-8');
      }
    case TAG.printableString:
    case TAG.ia5String:
    case TAG.numericString:
    case TAG.visibleString:
      for (const x of c) if (x > 0x7f) malformed('non-ASCII byte in an ASCII string');
      return b.toString('latin1');
    case TAG.teletexString:
      return b.toString('latin1');
    case TAG.bmpString: {
      if (c.length % 2) malformed('odd BMPString');
      return Buffer.from(b).swap16().toString('utf16le');
    }
    case TAG.universalString: {
      if (c.length % 4) malformed('bad UniversalString');
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = b.readUInt32BE(i);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) malformed('bad UniversalString');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return malformed(`tag 0x${t.tag.toString(16)} is not a string`);
  }
}

/** Decodes IA5String-like bytes to text (URIs, DNS names, e-mail addresses). */
export function readAscii(content: Uint8Array): string {
  for (const x of content) if (x > 0x7f) malformed('non-ASCII byte in an IA5String');
  return Buffer.from(content.buffer, content.byteOffset, content.length).toString('latin1');
}
