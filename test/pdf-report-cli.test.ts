import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { phrase, signPdf } from '../src/pdf/index.js';
import { minimalPdf } from './pdf/fixtures.js';
import { makeKey, makePki, signerOf, type TestPki } from './pdf/pki.js';
import { qpdfCheck } from './pdf/tools.js';
import { describeWith, kyso, run, tempDir, toolMissing } from './support/env.js';

// `kyso pdf verify --report`: the PDF report checked by poppler and qpdf, not by our own reader.

let tmp: ReturnType<typeof tempDir>;
let pki: TestPki;
let rootPem: string;

const at = (name: string) => path.join(tmp.dir, name);
/** White space folded, so a phrase matches whether or not the report wrapped it. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

/** The text pdftotext finds in a PDF file, pages separated by form feeds. */
function pdfText(file: string, lang?: string): string {
  const r = run('pdftotext', ['-enc', 'UTF-8', file, '-']);
  expect(r.code, `${lang ?? ''} ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** pdffonts' rows: name, type, encoding and the emb/sub/uni flags. */
function fonts(file: string): { name: string; type: string; emb: string; sub: string; uni: string }[] {
  const r = run('pdffonts', [file]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      const [emb, sub, uni] = cols.slice(-5, -2);
      return { name: cols[0], type: cols.slice(1, 3).join(' '), emb, sub, uni };
    });
}

/** A PDF signed n times in turn by two leaders with Vietnamese names. */
async function signedTimes(n: number): Promise<Uint8Array> {
  const keys = [makeKey('ec'), makeKey('ec')];
  const certs = [await pki.leaf(keys[0], 'Nguyễn Văn Ánh'), await pki.leaf(keys[1], 'Trần Thị Bích Ngọc')];
  let pdf = minimalPdf({ pages: 2 });
  for (let i = 0; i < n; i++)
    pdf = await signPdf(pdf, {
      signer: signerOf(keys[i % 2], 'ECDSA-SHA256'),
      certificate: certs[i % 2],
      chain: [pki.issuing],
      reason: 'Phê duyệt',
      location: 'Hà Nội',
    });
  return pdf;
}

describeWith(
  toolMissing('qpdf', 'pdftotext', 'pdffonts', 'pdfinfo', 'pdftoppm'),
  'kyso pdf verify --report',
  () => {
    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-report-');
      pki = await makePki();
      rootPem = pki.writePems(tmp.dir).root;
      writeFileSync(at('two.pdf'), await signedTimes(2));
      const tampered = Buffer.from(readFileSync(at('two.pdf')));
      tampered.write('Trang 9', tampered.indexOf('Trang 1'), 'latin1');
      writeFileSync(at('tampered.pdf'), tampered);
      writeFileSync(at('twelve.pdf'), await signedTimes(12));
    });
    afterAll(() => tmp?.remove());

    test('writes the report beside the usual output, with the same exit code; qpdf accepts it', () => {
      const plain = kyso(['pdf', 'verify', at('two.pdf'), '--ca', rootPem]);
      const r = kyso(['pdf', 'verify', at('two.pdf'), '--ca', rootPem, '--report', at('two-report.pdf')]);
      expect(r.code, r.stderr).toBe(plain.code);
      expect([0, 1, 2]).toContain(r.code);
      expect(r.stdout).toBe(plain.stdout);
      const q = qpdfCheck(tmp.dir, readFileSync(at('two-report.pdf')), 'two-report-qpdf');
      expect(q.ok, q.output).toBe(true);
      expect(run('pdfinfo', [at('two-report.pdf')]).stdout).toMatch(/PDF version:\s+1\.7/);
    });

    test('the report reads in Vietnamese: signers, verdicts and reasons extract as text', () => {
      const json = kyso(['pdf', 'verify', at('two.pdf'), '--json', '--report', at('two-vi.pdf')]);
      expect(json.code, json.stderr).toBe(2);
      const report = JSON.parse(json.stdout);
      const text = folded(pdfText(at('two-vi.pdf')));
      for (const expected of [
        'KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ',
        'two.pdf',
        'Nguyễn Văn Ánh',
        'Trần Thị Bích Ngọc',
        'Văn phòng, UBND tỉnh Thử nghiệm',
        'toàn vẹn',
        'Kết luận chung: chưa xác định',
        'Hà Nội',
        '+07:00',
        ...report.signatures.flatMap((s: { reasons: string[] }) =>
          s.reasons.map((code) => phrase(code, 'vi')),
        ),
      ])
        expect(text).toContain(expected);
      expect(text).toMatch(/[0-9a-f]{64}/);
    });

    test('a tampered file: the report says không hợp lệ and why', () => {
      const r = kyso(['pdf', 'verify', at('tampered.pdf'), '--report', at('tampered-report.pdf')]);
      expect(r.code, r.stdout).toBe(1);
      const text = folded(pdfText(at('tampered-report.pdf')));
      expect(text).toContain('Kết luận chung: không hợp lệ');
      expect(text).toContain(phrase('digest-mismatch', 'vi'));
      expect(text).toContain('không toàn vẹn');
    });

    test('fonts are embedded, subset and mapped to Unicode', () => {
      const rows = fonts(at('two-vi.pdf'));
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.name).toMatch(/^[A-Z]{6}\+LiberationSerif/);
        expect(row.type).toBe('CID TrueType');
        expect([row.emb, row.sub, row.uni]).toEqual(['yes', 'yes', 'yes']);
      }
    });

    test('--lang en, and KYSO_REPORT_FONT alone: one face, headings bold from it', () => {
      const r = kyso(['pdf', 'verify', at('two.pdf'), '--lang', 'en', '--report', at('two-en.pdf')], {
        env: { KYSO_REPORT_FONT: '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf' },
      });
      expect(r.code, r.stderr).toBe(2);
      const text = folded(pdfText(at('two-en.pdf')));
      expect(text).toContain('SIGNATURE VERIFICATION REPORT');
      expect(text).toContain('Overall verdict: indeterminate');
      expect(text).toContain('Nguyễn Văn Ánh');
      expect(fonts(at('two-en.pdf'))).toHaveLength(1);
    });

    test('a 12-signature document spans pages, every signature once and in order', () => {
      const r = kyso(['pdf', 'verify', at('twelve.pdf'), '--report', at('twelve-report.pdf')]);
      expect(r.code, r.stderr).toBe(2);
      const q = qpdfCheck(tmp.dir, readFileSync(at('twelve-report.pdf')), 'twelve-qpdf');
      expect(q.ok, q.output).toBe(true);
      const pages = pdfText(at('twelve-report.pdf')).split('\f').slice(0, -1);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      pages.forEach((page, i) => {
        expect(page).toContain(`Trang ${i + 1}/${pages.length}`);
      });
      const order = pages.flatMap((page) => [...page.matchAll(/Chữ ký (\d+) \(/g)].map((m) => Number(m[1])));
      expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const png = run('pdftoppm', [
        '-png',
        '-r',
        '60',
        '-f',
        '2',
        '-l',
        '2',
        at('twelve-report.pdf'),
        at('page'),
      ]);
      expect(png.code, png.stderr).toBe(0);
    });

    test('a missing font or a missing --report value: one line, exit 3, no report written', () => {
      const r = kyso(['pdf', 'verify', at('two.pdf'), '--report', at('none.pdf')], {
        env: { KYSO_REPORT_FONT: at('no-such-font.ttf') },
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /^kyso: .*cannot read the report font .*no-such-font\.ttf: .*\(ENOENT\)[^\n]*\n$/,
      );
      expect(existsSync(at('none.pdf'))).toBe(false);
      const bad = kyso(['pdf', 'verify', at('two.pdf'), '--report', at('bad.pdf')], {
        env: { KYSO_REPORT_FONT: at('two.pdf') },
      });
      expect(bad.code).toBe(3);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(at('bad.pdf'))).toBe(false);
      expect(kyso(['pdf', 'verify', at('two.pdf'), '--report']).code).toBe(3);
    });
  },
);
