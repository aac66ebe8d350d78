import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStructureError, readPdfFile } from '../src/cli/pdf-file.js';
import { PdfError, signPdfRevision, verifyPdf } from '../src/pdf/index.js';
import { toPem } from '../src/pki/index.js';
import { makeKey, makePki, signerOf, type TestPki } from './pdf/pki.js';
import { pdfsig, qpdfCheck } from './pdf/tools.js';
import { describeWith, kysoAsync, tempDir, toolMissing } from './support/env.js';

// Large files are signed from their structure only (src/cli/pdf-file.ts): the middle of big streams is
// never read into memory, the digest and the output come from the file. These tests check that the
// result is the same signed document, and that a file the sparse read misjudges still signs.

const MiB = 2 ** 20;

/** A PDF with one page per image, each image `imageBytes` of random samples stored without a filter. */
function imagePdf(images: number, imageBytes: number, trap = false): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  const offsets: number[] = [];
  const object = (num: number, head: string, data?: Buffer) => {
    offsets[num] = length;
    push(Buffer.from(`${num} 0 obj\n${head}`, 'latin1'));
    if (data) push(Buffer.concat([Buffer.from('\nstream\n'), data, Buffer.from('\nendstream')]));
    push(Buffer.from('\nendobj\n', 'latin1'));
  };
  push(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
  const kids: number[] = [];
  let num = 3;
  for (let i = 0; i < images; i++) {
    const image = num++;
    const content = num++;
    const page = num++;
    object(
      image,
      `<< /Type /XObject /Subtype /Image /Width ${imageBytes / 3} /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${imageBytes} >>`,
      randomBytes(imageBytes),
    );
    // The trap: a content stream with a comment that looks, to the sparse reader, like the header of a
    // 2 MiB stream, and is long enough that the page after it falls in the part left out: the signer
    // must read the whole file after all.
    const draw =
      trap && i === 0
        ? `% << /Length ${2 * MiB} >>\nstream\n%${'x'.repeat(100 * 1024)}\nq 595 0 0 842 0 0 cm /Im Do Q`
        : 'q 595 0 0 842 0 0 cm /Im Do Q';
    object(content, `<< /Length ${draw.length} >>`, Buffer.from(draw, 'latin1'));
    object(
      page,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im ${image} 0 R >> >> /Contents ${content} 0 R >>`,
    );
    kids.push(page);
  }
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`);
  const xref = length;
  let tail = `xref\n0 ${num}\n0000000000 65535 f\r\n`;
  for (let n = 1; n < num; n++) tail += `${String(offsets[n]).padStart(10, '0')} 00000 n\r\n`;
  tail += `trailer\n<< /Size ${num} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

let tmp: ReturnType<typeof tempDir>;
let pki: TestPki;
const at = (name: string) => path.join(tmp.dir, name);

beforeAll(async () => {
  tmp = tempDir('kyso-pdf-large-');
  pki = await makePki();
  writeFileSync(at('large.pdf'), imagePdf(4, 3 * MiB));
  writeFileSync(at('trap.pdf'), imagePdf(4, 3 * MiB, true));
});
afterAll(() => tmp?.remove());

it('reads a large file sparsely: structure kept, stream middles zero, chunks give the real bytes', () => {
  const real = readFileSync(at('large.pdf'));
  const file = readPdfFile(at('large.pdf'), { sparse: true });
  expect(file.sparse).toBe(true);
  expect(file.bytes.length).toBe(real.length);
  let zeros = 0;
  let differ = 0;
  for (let i = 0; i < real.length; i++) {
    if (file.bytes[i] === real[i]) continue;
    differ++;
    if (file.bytes[i] === 0) zeros++;
  }
  // Each 3 MiB image keeps 64 KiB at each end; everything that differs was left out as zeros.
  expect(differ).toBe(zeros);
  expect(zeros).toBeGreaterThan(4 * (3 * MiB - 2 * 64 * 1024) * 0.99);
  const chunks: Buffer[] = [];
  for (const chunk of file.chunks()) chunks.push(Buffer.from(chunk)); // one reused buffer: copy each
  expect(Buffer.concat(chunks).equals(real)).toBe(true);
  expect(real.equals(readPdfFile(at('large.pdf'), { sparse: false }).bytes)).toBe(true);
});

it('signs from the sparse read what signing the whole file signs', async () => {
  const key = makeKey('ec');
  const options = {
    signer: signerOf(key, 'ECDSA-SHA256'),
    certificate: await pki.leaf(key, 'Người ký tệp lớn'),
    chain: [pki.issuing],
    signingTime: new Date('2026-11-26T09:00:00Z'),
  };
  const file = readPdfFile(at('large.pdf'), { sparse: true });
  const revision = await signPdfRevision(file.bytes, { ...options, original: file.chunks });
  const signed = Buffer.concat([readFileSync(at('large.pdf')), revision]);
  const report = await verifyPdf(signed, { trustAnchors: [pki.root] });
  expect(report.signatures).toHaveLength(1);
  expect(report.signatures[0].integrity).toEqual({
    byteRange: 'passed',
    digest: 'passed',
    signature: 'passed',
  });
  expect(report.signatures[0].coversWholeFile).toBe(true);
  // The same revision as from the whole file, but for the signature value (ECDSA is randomized).
  const whole = await signPdfRevision(readFileSync(at('large.pdf')), options);
  const withoutContents = (b: Uint8Array) =>
    Buffer.from(b)
      .toString('latin1')
      .replace(/\/Contents <[0-9A-F]+>/, '');
  expect(withoutContents(revision)).toBe(withoutContents(whole));
});

it('a file the sparse read misjudges fails to parse, and reads whole instead', async () => {
  const file = readPdfFile(at('trap.pdf'), { sparse: true });
  expect(file.sparse).toBe(true);
  const key = makeKey('ec');
  const options = { signer: signerOf(key, 'ECDSA-SHA256'), certificate: await pki.leaf(key, 'A') };
  const error = await signPdfRevision(file.bytes, { ...options, original: file.chunks }).catch((e) => e);
  expect(error).toBeInstanceOf(PdfError);
  expect(isStructureError((error as PdfError).code)).toBe(true);
});

describeWith(toolMissing('qpdf', 'pdfsig'), 'kyso pdf sign on large files', () => {
  for (const name of ['large', 'trap'])
    it(`signs ${name}.pdf; qpdf and pdfsig accept it, and it verifies`, async () => {
      const key = makeKey('ec');
      writeFileSync(at('signer.key'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(at('signer.crt'), toPem('CERTIFICATE', await pki.leaf(key, 'Nguyễn Văn A')));
      writeFileSync(at('chain.pem'), toPem('CERTIFICATE', pki.issuing));
      writeFileSync(at('root.pem'), toPem('CERTIFICATE', pki.root));
      const out = at(`${name}-signed.pdf`);
      const r = await kysoAsync([
        'pdf',
        'sign',
        at(`${name}.pdf`),
        '--out',
        out,
        '--key',
        at('signer.key'),
        '--cert',
        at('signer.crt'),
        '--chain',
        at('chain.pem'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const signed = readFileSync(out);
      const original = readFileSync(at(`${name}.pdf`));
      expect(signed.subarray(0, original.length).equals(original)).toBe(true);
      const q = qpdfCheck(tmp.dir, signed, `${name}-qpdf`);
      expect(q.ok, q.output).toBe(true);
      const p = pdfsig(tmp.dir, signed, `${name}-pdfsig`);
      expect(
        p.signatures.map((s) => s.validation),
        p.output,
      ).toEqual(['Signature is Valid.']);
      const report = await verifyPdf(signed, { trustAnchors: [pki.root] });
      expect(report.signatures[0].integrity.digest).toBe('passed');
      expect(report.signatures[0].integrity.signature).toBe('passed');
    });
});
