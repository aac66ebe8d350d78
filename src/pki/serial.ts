import { randomBytes } from 'node:crypto';
import { PkiError } from './errors.js';

/** RFC 5280 §4.1.2.2: at most 20 octets of INTEGER contents. */
export const MAX_SERIAL_BYTES = 20;

/** Uppercase hex, two digits per byte, without sign padding, as `openssl x509 -serial` prints it. */
export function serialToHex(serial: Uint8Array): string {
  // A negative serial (foreign certificates have them) prints as OpenSSL does, "-01" for -1, so it never
  // collides with the positive serial of the same bytes.
  if (serial.length > 0 && serial[0] & 0x80) {
    let v = 0n;
    for (const b of serial) v = (v << 8n) | BigInt(b);
    const hex = ((1n << BigInt(8 * serial.length)) - v).toString(16).toUpperCase();
    return `-${hex.length % 2 ? `0${hex}` : hex}`;
  }
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return Buffer.from(serial.buffer, serial.byteOffset + i, serial.length - i)
    .toString('hex')
    .toUpperCase();
}

/** Parses a hex serial (any case, optional colons or 0x) to positive minimal INTEGER contents. */
export function serialFromHex(hex: string): Uint8Array {
  let s = hex.trim();
  if (/^0x/i.test(s)) s = s.slice(2);
  if (/^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(s)) s = s.replace(/:/g, '');
  if (!/^[0-9a-f]+$/i.test(s))
    throw new PkiError('bad-serial', `"${hex}" is not a hexadecimal serial number`);
  s = s.replace(/^0+/, '');
  if (s === '') throw new PkiError('bad-serial', 'a serial number must be positive');
  if (s.length % 2) s = `0${s}`;
  if (/^[89a-f]/i.test(s)) s = `00${s}`;
  const bytes = Uint8Array.from(Buffer.from(s, 'hex'));
  if (bytes.length > MAX_SERIAL_BYTES)
    throw new PkiError('bad-serial', `serial number of ${bytes.length} bytes exceeds ${MAX_SERIAL_BYTES}`);
  return bytes;
}

/** A fresh 16-byte serial; the first byte in 0x10..0x7f keeps it positive and its hex free of a leading 0. */
export function randomSerial(): Uint8Array {
  const b = Uint8Array.from(randomBytes(16));
  b[0] = 0x10 + (b[0] % 0x70);
  return b;
}

/** Checks a serial and returns its INTEGER contents (minimal, positive). */
export function serialContent(serial: Uint8Array): Uint8Array {
  let i = 0;
  while (i < serial.length && serial[i] === 0) i++;
  if (i === serial.length) throw new PkiError('bad-serial', 'a serial number must be positive');
  let out = serial.subarray(i);
  if (out[0] & 0x80) {
    out = new Uint8Array(out.length + 1);
    out.set(serial.subarray(i), 1);
  }
  if (out.length > MAX_SERIAL_BYTES)
    throw new PkiError('bad-serial', `serial number of ${out.length} bytes exceeds ${MAX_SERIAL_BYTES}`);
  return out;
}
