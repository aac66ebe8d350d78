import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PdfDocument, type PdfValue, verifyPdf } from '../../src/pdf/index.js';
import { numberValue } from '../../src/pdf/syntax/index.js';
import { toPem } from '../../src/pki/index.js';
import { describeWith, kysoAsync, run, tempDir, toolMissing } from '../support/env.js';
import { makeKey, makePki, type TestPki } from './pki.js';
import { strokePng } from './png-writer.js';
import { popplerWords } from './text-pdf.js';
import { qpdfCheck } from './tools.js';

// --anchor on what the drafters' tools really write: a decision laid out in LibreOffice (the Word→PDF
// path of the document office), its signing block in a table, converted to PDF by LibreOffice itself.
// poppler's word boxes say where the name and the title are; the leader's image must sit between them,
// centred on the name.

const TITLE = 'PHÓ CHỦ TỊCH';
const NAME = 'Nguyễn Văn Sơn';

/** A flat ODF text document: the body, then a two-column signing block (recipients | title, name). */
function decision(): string {
  const p = (text: string) => `<text:p>${text}</text:p>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls><style:font-face style:name="Liberation Serif" svg:font-family="'Liberation Serif'"/></office:font-face-decls>
<office:styles><style:default-style style:family="paragraph"><style:text-properties style:font-name="Liberation Serif" fo:font-size="13pt"/></style:default-style></office:styles>
<office:body><office:text>
${p('UBND TỈNH HÀ GIANG')}${p('QUYẾT ĐỊNH về việc phê duyệt kế hoạch chuyển đổi số năm 2027')}
${p('Điều 1. Phê duyệt kế hoạch kèm theo Quyết định này.')}
${p('Điều 2. Giao Sở Khoa học và Công nghệ chủ trì tổ chức thực hiện.')}
<table:table table:name="ky"><table:table-column table:number-columns-repeated="2"/><table:table-row>
<table:table-cell>${p('Nơi nhận:')}${p('- Như Điều 2;')}${p('- Lưu: VT.')}</table:table-cell>
<table:table-cell>${p('KT. CHỦ TỊCH')}${p(TITLE)}${p('')}${p('')}${p('')}${p('')}${p(NAME)}</table:table-cell>
</table:table-row></table:table>
</office:text></office:body></office:document>
`;
}

describeWith(toolMissing('soffice', 'pdftotext', 'qpdf'), '--anchor on a PDF that LibreOffice wrote', () => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: TestPki;
  const at = (name: string) => path.join(tmp.dir, name);

  beforeAll(async () => {
    tmp = tempDir('kyso-anchor-lo-');
    pki = await makePki();
    writeFileSync(at('decision.fodt'), decision());
    // A profile of its own, so that the conversion neither needs nor touches the user's.
    const r = run(
      'soffice',
      [
        `-env:UserInstallation=file://${at('profile')}`,
        '--headless',
        '--convert-to',
        'pdf',
        '--outdir',
        tmp.dir,
        at('decision.fodt'),
      ],
      { env: { ...process.env, HOME: tmp.dir } },
    );
    if (r.code !== 0) throw new Error(`soffice failed: ${r.stderr}`);
  }, 120_000);
  afterAll(() => tmp?.remove());

  /** A text's box in PDF user space (bottom-left origin), from poppler's words on page 1. */
  function popplerBox(text: string): { x: number; y: number; w: number; h: number } {
    const html = run('pdftotext', ['-bbox-layout', '-f', '1', '-l', '1', at('decision.pdf'), '-']).stdout;
    const pageHeight = Number(/<page width="[\d.]+" height="([\d.]+)"/.exec(html)?.[1]);
    const words = popplerWords(html);
    const parts = text.split(' ');
    const start = words.findIndex((_, i) => parts.every((p, k) => words[i + k]?.text === p));
    expect(start, `poppler finds "${text}"`).toBeGreaterThanOrEqual(0);
    const hit = words.slice(start, start + parts.length);
    const xMin = Math.min(...hit.map((w) => w.xMin));
    const xMax = Math.max(...hit.map((w) => w.xMax));
    const yMin = Math.min(...hit.map((w) => w.yMin));
    const yMax = Math.max(...hit.map((w) => w.yMax));
    return { x: xMin, y: pageHeight - yMax, w: xMax - xMin, h: yMax - yMin };
  }

  test('the leader image sits between the title and the name, centred on the name; it verifies', async () => {
    const key = makeKey('ec');
    writeFileSync(at('leader.key'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(at('leader.crt'), toPem('CERTIFICATE', await pki.leaf(key, NAME)));
    writeFileSync(at('signature.png'), strokePng(240, 100, [20, 40, 200]));
    const r = await kysoAsync([
      'pdf',
      'sign',
      at('decision.pdf'),
      '--out',
      at('signed.pdf'),
      '--key',
      at('leader.key'),
      '--cert',
      at('leader.crt'),
      '--image',
      at('signature.png'),
      '--anchor',
      NAME,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const signed = readFileSync(at('signed.pdf'));
    const doc = PdfDocument.open(signed);
    const [field] = doc.signatureFields();
    const [x1, y1, x2, y2] = (doc.get(field.dict, 'Rect') as PdfValue[]).map((v) => numberValue(v)!);
    const name = popplerBox(NAME);
    const title = popplerBox(TITLE);
    expect(Math.abs((x1 + x2) / 2 - (name.x + name.w / 2))).toBeLessThan(1.5);
    expect(Math.min(y1, y2)).toBeGreaterThanOrEqual(name.y + name.h - 1.5);
    expect(Math.max(y1, y2)).toBeLessThanOrEqual(title.y + 1.5);

    const q = qpdfCheck(tmp.dir, signed, 'lo-qpdf');
    expect(q.ok, q.output).toBe(true);
    const report = await verifyPdf(signed, { trustAnchors: [pki.root], certificates: [pki.issuing] });
    expect(report.signatures[0].integrity).toEqual({
      byteRange: 'passed',
      digest: 'passed',
      signature: 'passed',
    });
    expect(report.signatures[0].chain.status).toBe('trusted');
  });
});
