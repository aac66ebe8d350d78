import { describe, expect, it } from 'vitest';
import { Lexer } from './lexer.js';
import {
  ByteWriter,
  dict,
  formatName,
  formatNumber,
  name,
  PdfReal,
  PdfRef,
  PdfString,
  writeValue,
} from './objects.js';
import { parseValue } from './parser.js';
import { decodeText, encodeText, formatPdfDate, parsePdfDate } from './text.js';

const written = (v: Parameters<typeof writeValue>[1]) => {
  const out = new ByteWriter();
  writeValue(out, v);
  return Buffer.from(out.toBytes()).toString('latin1');
};

describe('text strings', () => {
  it('writes ASCII as it is and anything else as UTF-16BE with a BOM', () => {
    expect(Buffer.from(encodeText('Signature1').bytes).toString('latin1')).toBe('Signature1');
    const vi = encodeText('Phê duyệt');
    expect(Buffer.from(vi.bytes.subarray(0, 2)).toString('hex')).toBe('feff');
    expect(decodeText(vi.bytes)).toBe('Phê duyệt');
  });

  it('reads PDFDocEncoding and UTF-8 with a BOM', () => {
    expect(decodeText(Uint8Array.of(0x41, 0x84, 0x92, 0xe9))).toBe('A\u2014\u2122é');
    expect(decodeText(new Uint8Array(Buffer.from('\ufeffNguyễn', 'utf8')))).toBe('Nguyễn');
  });
});

describe('PDF dates', () => {
  it('writes a date at an offset, and Z at UTC', () => {
    const d = new Date('2026-01-02T03:04:05Z');
    expect(formatPdfDate(d, 420)).toBe("D:20260102100405+07'00'");
    expect(formatPdfDate(d, -330)).toBe("D:20260101213405-05'30'");
    expect(formatPdfDate(d)).toBe('D:20260102030405Z');
  });

  it('reads full, partial and zoned dates', () => {
    expect(parsePdfDate("D:20260102100405+07'00'")?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(parsePdfDate('D:20260102100405+07')?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(parsePdfDate('D:2026')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parsePdfDate('D:20260102030405Z')?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('refuses what is not a date', () => {
    expect(parsePdfDate('yesterday')).toBeUndefined();
    expect(parsePdfDate('D:20261341')).toBeUndefined();
    expect(parsePdfDate('D:20260231')).toBeUndefined();
    expect(() => formatPdfDate(new Date(Number.NaN))).toThrow('invalid date');
  });
});

describe('writing objects', () => {
  it('escapes names and writes reals without exponents', () => {
    expect(formatName('A B/#')).toBe('/A#20B#2F#23');
    expect(formatNumber(0.0000001)).toBe('0');
    expect(formatNumber(-1.5)).toBe('-1.5');
    expect(formatNumber(612)).toBe('612');
  });

  it('writes what the parser reads back', () => {
    const v = dict({
      Type: name('Annot'),
      Rect: [0, new PdfReal(10.25), -3, 4],
      T: encodeText('Chữ ký 1'),
      V: new PdfRef(12, 0),
      S: new PdfString(Buffer.from('a(b)\\c')),
      B: true,
    });
    const text = written(v);
    expect(text).toContain('/Rect [0 10.25 -3 4]');
    expect(text).toContain('(a\\(b\\)\\\\c)');
    const back = parseValue(new Lexer(new Uint8Array(Buffer.from(text, 'latin1'))), {
      maxDepth: 8,
      inFile: false,
    });
    expect(written(back)).toBe(text);
  });
});
