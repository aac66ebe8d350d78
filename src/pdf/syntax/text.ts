import { PdfError } from '../errors.js';
import { PdfString, type PdfValue } from './objects.js';

// Text strings (ISO 32000-1 §7.9.2.2: PDFDocEncoding or UTF-16BE with a BOM; ISO 32000-2 adds UTF-8) and
// dates (§7.9.4: D:YYYYMMDDHHmmSSOHH'mm').

/** PDFDocEncoding where it differs from Latin-1: 0x18–0x1F and 0x80–0xA0 (0x9F and 0xAD are undefined). */
const PDF_DOC_DIFFERENCES: Record<number, string> = {
  24: '\u02d8',
  25: '\u02c7',
  26: '\u02c6',
  27: '\u02d9',
  28: '\u02dd',
  29: '\u02db',
  30: '\u02da',
  31: '\u02dc',
  128: '\u2022',
  129: '\u2020',
  130: '\u2021',
  131: '\u2026',
  132: '\u2014',
  133: '\u2013',
  134: '\u0192',
  135: '\u2044',
  136: '\u2039',
  137: '\u203a',
  138: '\u2212',
  139: '\u2030',
  140: '\u201e',
  141: '\u201c',
  142: '\u201d',
  143: '\u2018',
  144: '\u2019',
  145: '\u201a',
  146: '\u2122',
  147: '\ufb01',
  148: '\ufb02',
  149: '\u0141',
  150: '\u0152',
  151: '\u0160',
  152: '\u0178',
  153: '\u017d',
  154: '\u0131',
  155: '\u0142',
  156: '\u0153',
  157: '\u0161',
  158: '\u017e',
  159: '\ufffd',
  160: '\u20ac',
  173: '\ufffd',
};

/** Decodes a text string's bytes. */
export function decodeText(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b[0] === 0xfe && b[1] === 0xff)
    return Buffer.from(b.subarray(2, b.length & ~1))
      .swap16()
      .toString('utf16le');
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
  let out = '';
  for (const c of b) out += PDF_DOC_DIFFERENCES[c] ?? String.fromCharCode(c);
  return out;
}

/** The text of a string value, or undefined for anything else. */
export function textOf(v: PdfValue | undefined): string | undefined {
  return v instanceof PdfString ? decodeText(v.bytes) : undefined;
}

/** A text string: printable ASCII as it is, anything else as UTF-16BE with a byte order mark. */
export function encodeText(text: string): PdfString {
  if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(Buffer.from(text, 'latin1'));
  const utf16 = Buffer.from(text, 'utf16le').swap16();
  return new PdfString(Buffer.concat([Buffer.of(0xfe, 0xff), utf16]), true);
}

const two = (n: number) => String(n).padStart(2, '0');

/** A date in PDF form at a fixed offset east of UTC in minutes, e.g. D:20260101090000+07'00'. */
export function formatPdfDate(date: Date, offsetMinutes = 0): string {
  if (!Number.isFinite(date.getTime())) throw new PdfError('bad-input', 'invalid date');
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 14 * 60)
    throw new PdfError('bad-input', 'time zone offset must be whole minutes within ±14 hours');
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 0 || year > 9999) throw new PdfError('bad-input', 'year out of range');
  const stamp =
    String(year).padStart(4, '0') +
    two(local.getUTCMonth() + 1) +
    two(local.getUTCDate()) +
    two(local.getUTCHours()) +
    two(local.getUTCMinutes()) +
    two(local.getUTCSeconds());
  if (offsetMinutes === 0) return `D:${stamp}Z`;
  const abs = Math.abs(offsetMinutes);
  return `D:${stamp}${offsetMinutes > 0 ? '+' : '-'}${two(Math.floor(abs / 60))}'${two(abs % 60)}'`;
}

const DATE = /^(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:([Zz])|([+-])(\d\d)(?:'?(\d\d)'?)?)?$/;

/** Parses a PDF date; missing fields take their defaults and a missing zone is read as UTC. */
export function parsePdfDate(text: string): Date | undefined {
  const m = DATE.exec(text.trim());
  if (!m) return undefined;
  const [year, month = 1, day = 1, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((s, i) => (s === undefined ? [0, 1, 1, 0, 0, 0][i] : Number(s)));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (m[8]) {
    const offset = Number(m[9]) * 60 + Number(m[10] ?? 0);
    if (Number(m[9]) > 23 || Number(m[10] ?? 0) > 59) return undefined;
    ms -= (m[8] === '+' ? 1 : -1) * offset * 60_000;
  }
  const d = new Date(ms);
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day ? d : undefined;
}
