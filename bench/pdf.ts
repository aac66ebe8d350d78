import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeKey, makePki } from '../test/pdf/pki.js';
import { ROOT, tempDir } from '../test/support/env.js';

export interface PdfRow {
  input: string;
  /** Size of the file signed, then of the file verified (the signed one). */
  inputBytes: number;
  signMs: number;
  signPeakMiB: number;
  /** Resident memory of the signing process before it read the file: Node.js and Kyso's modules. */
  signStartMiB: number;
  verifyMs: number;
  verifyPeakMiB: number;
  /** Signatures found by verifyPdf and their verdicts, as a sanity check. */
  verdicts: string[];
  /** `pdfsig -nocert` over the same signed file, same run, same number of runs. */
  pdfsigMs: number;
  runs: number;
}

/** A PDF written by hand from object bodies; a body may carry a binary stream. */
function writePdf(objects: (string | { dict: string; data: Uint8Array })[], root: number): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = chunks[0].length;
  const push = (b: Buffer) => {
    chunks.push(b);
    length += b.length;
  };
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    if (typeof body === 'string') {
      push(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1'));
    } else {
      push(Buffer.from(`${i + 1} 0 obj\n${body.dict}\nstream\n`, 'latin1'));
      push(Buffer.from(body.data));
      push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
    }
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) tail += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root ${root} 0 R /ID [<4B59534F42454E43482D504446> <4B59534F42454E43482D504446>] >>\nstartxref\n${length}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(chunks);
}

/** `pages` A4 pages of Helvetica text, 50 lines each, uncompressed. */
function textPdf(pages: number): Buffer {
  const objects: (string | { dict: string; data: Uint8Array })[] = ['', '', ''];
  objects[2] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  const kids: number[] = [];
  for (let p = 1; p <= pages; p++) {
    let text = 'BT /F1 10 Tf 12 TL 56 790 Td\n';
    for (let l = 1; l <= 50; l++)
      text += `(Page ${p}, line ${l}: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.) '\n`;
    text += 'ET\n';
    objects.push(`<< /Length ${text.length} >>\nstream\n${text}endstream`);
    const content = objects.length;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents ${content} 0 R >>`,
    );
    kids.push(objects.length);
  }
  objects[0] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} /MediaBox [0 0 595 842] >>`;
  return writePdf(objects, 1);
}

/** `pages` pages, each one full-page RGB image of random (incompressible) bytes, stored without a filter. */
function imagePdf(pages: number, width: number, height: number): Buffer {
  const objects: (string | { dict: string; data: Uint8Array })[] = ['', ''];
  const kids: number[] = [];
  for (let p = 1; p <= pages; p++) {
    const data = randomBytes(width * height * 3);
    objects.push({
      dict: `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${data.length} >>`,
      data,
    });
    const image = objects.length;
    const draw = 'q 595 0 0 842 0 0 cm /Im1 Do Q\n';
    objects.push(`<< /Length ${draw.length} >>\nstream\n${draw}endstream`);
    const content = objects.length;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Im1 ${image} 0 R >> >> /Contents ${content} 0 R >>`,
    );
    kids.push(objects.length);
  }
  objects[0] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} /MediaBox [0 0 595 842] >>`;
  return writePdf(objects, 1);
}

interface ChildResult {
  ms: number;
  peakMiB: number;
  startMiB: number;
  signatures: number;
  verdicts: string[];
}

function child(
  op: 'sign' | 'verify',
  dir: string,
  input: string,
  runs: number,
  output?: string,
): ChildResult {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bench/pdf-child.mjs'), op, dir, input, String(runs), ...(output ? [output] : [])],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`PDF ${op} child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/**
 * Median wall time of `pdfsig -nocert FILE` (no certificate validation, so no NSS trust lookups); it must
 * find every signature valid.
 */
function pdfsig(file: string, runs: number, signatures: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync('pdfsig', ['-nocert', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
    times.push(performance.now() - start);
    const valid = r.stdout.match(/Signature Validation: Signature is Valid/g)?.length ?? 0;
    if (r.status !== 0 || valid !== signatures)
      throw new Error(
        `pdfsig found ${valid} valid of ${signatures} signatures in ${file}: ${r.stdout} ${r.stderr}`,
      );
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Signs and verifies four PDFs, each operation in its own child process for its peak RSS, and times
 * `pdfsig -nocert` on the same signed files in the same run.
 */
export async function pdfBench(smallRuns = 5): Promise<PdfRow[]> {
  const tmp = tempDir('kyso-bench-pdf-');
  try {
    const dir = tmp.dir;
    const pki = await makePki();
    const key = makeKey('ec');
    const cert = await pki.leaf(key, 'Kyso Bench Signer');
    writeFileSync(path.join(dir, 'signer.key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(dir, 'signer.spki.der'), key.spki);
    writeFileSync(path.join(dir, 'signer.der'), cert);
    writeFileSync(path.join(dir, 'issuing.der'), pki.issuing);
    writeFileSync(path.join(dir, 'root.der'), pki.root);

    const file = (name: string) => path.join(dir, name);
    writeFileSync(file('one-page.pdf'), textPdf(1));
    writeFileSync(file('300-pages.pdf'), textPdf(300));
    // 10 pages × 1024 × 1706 RGB ≈ 50 MiB of raw random samples.
    writeFileSync(file('images.pdf'), imagePdf(10, 1024, 1706));
    // The 10-signature PDF: the 1-page one signed nine times; the measured signing adds the tenth.
    copyFileSync(file('one-page.pdf'), file('sigs-0.pdf'));
    for (let i = 1; i <= 9; i++) child('sign', dir, file(`sigs-${i - 1}.pdf`), 1, file(`sigs-${i}.pdf`));

    const inputs: { label: string; input: string; runs: number }[] = [
      { label: '1 page of text', input: 'one-page.pdf', runs: smallRuns },
      { label: '300 pages of text', input: '300-pages.pdf', runs: smallRuns },
      { label: '10 raw random-byte images (~50 MiB)', input: 'images.pdf', runs: 1 },
      { label: '1 page, 10th signature added (10 signatures)', input: 'sigs-9.pdf', runs: smallRuns },
    ];
    const rows: PdfRow[] = [];
    for (const { label, input, runs } of inputs) {
      const signed = file(`${input}.signed.pdf`);
      const s = child('sign', dir, file(input), runs, signed);
      const v = child('verify', dir, signed, runs);
      rows.push({
        input: label,
        inputBytes: statSync(file(input)).size,
        signMs: s.ms,
        signPeakMiB: s.peakMiB,
        signStartMiB: s.startMiB,
        verifyMs: v.ms,
        verifyPeakMiB: v.peakMiB,
        verdicts: v.verdicts,
        pdfsigMs: pdfsig(signed, runs, v.signatures),
        runs,
      });
    }
    return rows;
  } finally {
    tmp.remove();
  }
}
