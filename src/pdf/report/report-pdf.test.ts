import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { minimalPdf } from '../../../test/pdf/fixtures.js';
import { makeKey, makePki, signerOf } from '../../../test/pdf/pki.js';
import { describeWith, fileMissing } from '../../../test/support/env.js';
import { PdfError } from '../errors.js';
import { signPdf } from '../sign/index.js';
import { decodeStream, isName, type PdfDict, PdfDocument, type PdfStream } from '../syntax/index.js';
import { verifyPdf } from '../verify/index.js';
import type { Reason, VerificationReport } from './report.js';
import { type ReportPdfOptions, renderReportPdf, wrapText } from './report-pdf.js';
import { phrase } from './report-text.js';

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';
const SERIF_BOLD = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf';
const LONG_REASON =
  'Phê duyệt văn bản số 15/QĐ-BNV về việc ban hành quy chế quản lý, sử dụng chữ ký số chuyên dùng công vụ ' +
  'trong hoạt động của cơ quan, đơn vị thuộc Ủy ban nhân dân tỉnh';

/** The text of each page, line by line, read back through the fonts' ToUnicode maps. */
function pageLines(pdf: Uint8Array): string[][] {
  const doc = PdfDocument.open(pdf);
  return doc.pages().map((page) => {
    const resources = doc.resolve(page.dict.get('Resources')) as PdfDict;
    const fonts = doc.resolve(resources.get('Font')) as PdfDict;
    const unicode = new Map<string, Map<string, string>>();
    for (const [key, ref] of fonts.entries) {
      const font = doc.resolve(ref) as PdfDict;
      const cmap = Buffer.from(decodeStream(doc.resolve(font.get('ToUnicode')) as PdfStream, 1 << 20));
      const map = new Map<string, string>();
      for (const [, glyph, text] of cmap.toString('latin1').matchAll(/<([0-9A-F]{4})> <([0-9A-F]+)>/g))
        map.set(glyph.toLowerCase(), Buffer.from(text, 'hex').swap16().toString('utf16le'));
      unicode.set(key, map);
    }
    const content = doc.resolve(page.dict.get('Contents')) as PdfStream;
    const ops = Buffer.from(decodeStream(content, 1 << 24)).toString('latin1');
    const lines = new Map<number, string[]>();
    for (const [, font, y, hex] of ops.matchAll(/\/(F\d) [\d.]+ Tf .*? ([\d.]+) Td <([0-9a-f]*)> Tj/g)) {
      const text = (hex.match(/.{4}/g) ?? []).map((g) => unicode.get(font)?.get(g) ?? '\uFFFD').join('');
      lines.set(Number(y), [...(lines.get(Number(y)) ?? []), text]);
    }
    return [...lines.entries()].sort(([a], [b]) => b - a).map(([, runs]) => runs.join(' '));
  });
}

describe('wrapText', () => {
  const chars = (t: string) => [...t].length;

  it('fills lines greedily and breaks at spaces', () => {
    expect(wrapText(chars, 'a bb ccc dd', 4)).toEqual(['a bb', 'ccc', 'dd']);
    expect(wrapText(chars, 'a bb', 10)).toEqual(['a bb']);
    expect(wrapText(chars, '', 10)).toEqual(['']);
  });

  it('breaks inside a word only when the word alone is too wide, by characters not UTF-16 units', () => {
    expect(wrapText(chars, 'abcdefghij xy', 4)).toEqual(['abcd', 'efgh', 'ij', 'xy']);
    expect(wrapText(chars, '𝐀𝐁𝐂𝐃𝐄', 2)).toEqual(['𝐀𝐁', '𝐂𝐃', '𝐄']);
  });

  it('never loses text', () => {
    const lines = wrapText(chars, LONG_REASON, 17);
    expect(lines.every((l) => chars(l) <= 17)).toBe(true);
    expect(lines.join(' ')).toBe(LONG_REASON);
  });
});

describeWith(fileMissing(SERIF, SERIF_BOLD), 'renderReportPdf (Liberation Serif)', () => {
  const fonts = {
    regular: new Uint8Array(readFileSync(SERIF)),
    bold: new Uint8Array(readFileSync(SERIF_BOLD)),
  };
  const checkedAt = new Date('2026-11-26T03:04:05Z');
  const options = (extra: Partial<ReportPdfOptions> = {}): ReportPdfOptions => ({
    file: 'công-văn-15-QĐ-BNV.pdf',
    sha256: 'ab'.repeat(32),
    lang: 'vi',
    fonts,
    checkedAt,
    ...extra,
  });
  let one: VerificationReport;
  let twelve: VerificationReport;

  beforeAll(async () => {
    const pki = await makePki();
    const keys = [makeKey('ec'), makeKey('ec')];
    const certs = [await pki.leaf(keys[0], 'Nguyễn Văn Ánh'), await pki.leaf(keys[1], 'Trần Thị Bích Ngọc')];
    let pdf = minimalPdf({ pages: 1 });
    const signed: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      pdf = await signPdf(pdf, {
        signer: signerOf(keys[i % 2], 'ECDSA-SHA256'),
        certificate: certs[i % 2],
        chain: [pki.issuing],
        reason: i === 0 ? LONG_REASON : 'Phê duyệt',
        location: 'Hà Nội',
      });
      signed.push(pdf);
    }
    one = await verifyPdf(signed[0]);
    twelve = await verifyPdf(pdf);
  });

  it('writes an A4 PDF 1.7 with the title, the file, its hash, the time of checking and every row', () => {
    const pdf = renderReportPdf(one, options({ verifierName: 'Lê Thị Văn Thư' }));
    expect(Buffer.from(pdf.subarray(0, 9)).toString('latin1')).toBe('%PDF-1.7\n');
    const doc = PdfDocument.open(pdf);
    expect(doc.pages().map((p) => p.mediaBox)).toEqual([[0, 0, 595.28, 841.89]]);
    const text = pageLines(pdf)[0].join('\n');
    for (const expected of [
      'KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ',
      'Tệp: công-văn-15-QĐ-BNV.pdf',
      `Mã băm SHA-256: ${'ab'.repeat(32)}`,
      'Thời điểm kiểm tra: 2026-11-26T10:04:05+07:00',
      'Người kiểm tra: Lê Thị Văn Thư',
      `Kết luận chung: ${one.verdict === 'indeterminate' ? 'chưa xác định' : one.verdict}`,
      'Chữ ký 1 (trường',
      'Người ký: Nguyễn Văn Ánh',
      'Đơn vị quản lý: Văn phòng, UBND tỉnh Thử nghiệm',
      'Tổ chức cấp: ',
      'Thời điểm ký: ',
      'Tính toàn vẹn: toàn vẹn',
      'Hiệu lực tại thời điểm ký: ',
      'Thời hạn chứng thư số: từ ',
      'Phạm vi ký: toàn bộ tệp',
      'Nơi ký: Hà Nội',
      'Kết luận: chưa xác định',
      ...one.signatures[0].reasons.map((r) => `• ${phrase(r, 'vi')}`),
      'Trang 1/1',
    ])
      expect(text).toContain(expected);
  });

  it('wraps a long value inside its column without losing a word', () => {
    const lines = pageLines(renderReportPdf(one, options()))[0];
    const first = lines.findIndex((l) => l.startsWith('Lý do ký: '));
    expect(first).toBeGreaterThan(0);
    const wrapped = [lines[first].slice('Lý do ký: '.length)];
    for (let i = first + 1; !lines[i].includes(':'); i++) wrapped.push(lines[i]);
    expect(wrapped.length).toBeGreaterThan(1);
    expect(wrapped.join(' ')).toBe(LONG_REASON);
  });

  it('embeds each face once as a subset Type0/Identity-H font with a ToUnicode map', () => {
    const doc = PdfDocument.open(renderReportPdf(twelve, options()));
    const pages = doc.pages();
    const resources = doc.resolve(pages[0].dict.get('Resources')) as PdfDict;
    const faces = doc.resolve(resources.get('Font')) as PdfDict;
    expect([...faces.entries.keys()]).toEqual(['F1', 'F2']);
    for (const [, ref] of faces.entries) {
      const font = doc.resolve(ref) as PdfDict;
      expect(isName(font.get('Subtype'), 'Type0')).toBe(true);
      expect(isName(font.get('Encoding'), 'Identity-H')).toBe(true);
      expect((font.get('BaseFont') as { value: string }).value).toMatch(/^[A-Z]{6}\+LiberationSerif/);
      expect(font.get('ToUnicode')).toBeDefined();
    }
  });

  it('breaks pages between signatures, keeping each signature on one page when it fits', () => {
    const pages = pageLines(renderReportPdf(twelve, options()));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    pages.forEach((lines, i) => {
      expect(lines.at(-1)).toContain(`Trang ${i + 1}/${pages.length}`);
    });
    const headings = pages.flatMap((lines, page) =>
      lines.filter((l) => /^Chữ ký \d+ \(/.test(l)).map((l) => ({ page, n: Number(l.split(' ')[2]) })),
    );
    expect(headings.map((h) => h.n)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // Each block ends with its verdict row (and maybe reasons) on its heading's page.
    for (const { page, n } of headings) {
      const lines = pages[page];
      const start = lines.findIndex((l) => l.startsWith(`Chữ ký ${n} (`));
      const next = lines.findIndex((l, i) => i > start && /^Chữ ký \d+ \(/.test(l));
      expect(lines.slice(start, next < 0 ? undefined : next).some((l) => l.startsWith('Kết luận: '))).toBe(
        true,
      );
    }
  });

  it('flows a signature taller than a page onto the next pages without losing a line', () => {
    const many = Array.from({ length: 90 }, (_, i) => `made-up-reason-${i}` as Reason);
    const tall = { ...twelve, signatures: [{ ...twelve.signatures[0], reasons: many }] };
    const pages = pageLines(renderReportPdf(tall, options({ lang: 'en' })));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const text = pages.flat().join('\n');
    for (let i = 0; i < 90; i++) expect(text).toContain(`• made up reason ${i}\n`);
  });

  it('reports a file without signatures and an unreadable file, with the reader error', async () => {
    const unsigned = await verifyPdf(minimalPdf({ pages: 1 }));
    const none = pageLines(renderReportPdf(unsigned, options({ lang: 'en' }))).flat();
    expect(none).toContain('Overall verdict: invalid');
    expect(none).toContain('• the file has no signatures');
    expect(none).toContain('Signatures: 0');
    const broken = await verifyPdf(new Uint8Array(Buffer.from('%PDF-1.7\nnot really a PDF\n')));
    expect(broken.reasons).toEqual(['unreadable']);
    const lines = pageLines(renderReportPdf(broken, options())).flat();
    expect(lines).toContain('Kết luận chung: không hợp lệ');
    expect(lines).toContain('• không đọc được tệp PDF');
    expect(lines.some((l) => l.includes(broken.error!.message.slice(0, 20)))).toBe(true);
  });

  it('draws headings bold from the regular face when no bold face is given', () => {
    const pdf = renderReportPdf(one, options({ fonts: { regular: fonts.regular }, lang: 'en' }));
    const doc = PdfDocument.open(pdf);
    const faces = doc.resolve((doc.resolve(doc.pages()[0].dict.get('Resources')) as PdfDict).get('Font'));
    expect([...(faces as PdfDict).entries.keys()]).toEqual(['F1']);
    const text = pageLines(pdf)[0];
    expect(text).toContain('SIGNATURE VERIFICATION REPORT');
    expect(text).toContain('Signer: Nguyễn Văn Ánh');
  });

  it('shows characters the font lacks as ? and control characters as spaces', () => {
    const lines = pageLines(renderReportPdf(one, options({ file: '合同\tđã ký.pdf' })))[0];
    expect(lines).toContain('Tệp: ?? đã ký.pdf');
  });

  it('gives the same bytes for the same report and options', () => {
    expect(Buffer.compare(renderReportPdf(one, options()), renderReportPdf(one, options()))).toBe(0);
  });

  it('refuses bad options and fonts with a PdfError', () => {
    for (const bad of [
      options({ sha256: 'xyz' }),
      options({ lang: 'fr' as 'vi' }),
      options({ checkedAt: new Date(Number.NaN) }),
      options({ fonts: { regular: new Uint8Array(100) } }),
    ])
      expect(() => renderReportPdf(one, bad)).toThrow(PdfError);
  });
});
