import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument, renderReport, type VerificationReport } from '../../src/pdf/index.js';
import { describeWith, run, tempDir, toolMissing } from '../support/env.js';
import { bytes, latin1, outcome, trustedSigner } from './attack-kit.js';
import { minimalPdf } from './fixtures.js';

// Bytes after the last well-formed revision (issue 8 §2): only white space may follow the last %%EOF.
// Anything else is read one way by Kyso and another by a repairing reader, so it is never valid, and a
// signature in those bytes is listed, never dropped.

const SHOWN = 'Thanh toan 10.000.000 VND';
const TEXT = `BT /F1 24 Tf 72 640 Td (${SHOWN}) Tj ET\n`;

/** Page 1's content stream redefined after the %%EOF, with no cross-reference section, then a long comment. */
function appendShadow(signed: Uint8Array): Uint8Array {
  const content = PdfDocument.open(signed).pages()[0].dict.get('Contents') as { num: number };
  // Over 1 KiB after the last %%EOF: qpdf and MuPDF no longer find it and rebuild the object table.
  const tail = `${content.num} 0 obj\n<< /Length ${TEXT.length} >>\nstream\n${TEXT}endstream\nendobj\n%${'x'.repeat(1400)}\n`;
  return join(signed, bytes(tail));
}

const join = (a: Uint8Array, b: Uint8Array) => new Uint8Array(Buffer.concat([a, b]));
const summary = (r: VerificationReport) => r.signatures.map((s) => [s.field, s.verdict, s.reasons]);

describe('bytes after the last revision', () => {
  let signer: Awaited<ReturnType<typeof trustedSigner>>;
  let once: Uint8Array;
  let twice: Uint8Array;
  beforeAll(async () => {
    signer = await trustedSigner();
    once = await signer.sign(minimalPdf({ pages: 1 }));
    twice = await signer.sign(once);
  });

  it('objects appended after %%EOF without a cross-reference section: changes-unreadable, never valid', async () => {
    const r = await signer.verify(appendShadow(once));
    expect(r.verdict).toBe('invalid');
    expect(outcome(r)).toMatchObject({ verdict: 'invalid', status: 'unreadable' });
    expect(outcome(r).reasons).toEqual(['changes-unreadable']);
    expect(r.signatures[0].details.join('\n')).toMatch(/bytes after the last revision \(from offset \d+\)/);
    expect(renderReport('x.pdf', r, 'vi')).toContain('không đọc được các thay đổi sau khi ký');
  });

  it('a file cut inside its last update: the earlier signature is unreadable-changed, the cut one listed', async () => {
    // Cut before the update's cross-reference section, the field is there to name the signature; cut in
    // the middle, only the signature dictionary may be, and it is listed by its object number.
    const beforeXref = twice.subarray(0, latin1(twice).lastIndexOf('\nxref\n'));
    const middle = twice.subarray(0, once.length + Math.floor((twice.length - once.length) / 2));
    for (const [cut, name] of [
      [beforeXref, 'Signature2'],
      [middle, expect.stringMatching(/^object \d+$/)],
    ] as const) {
      const r = await signer.verify(cut);
      expect(r.verdict).toBe('invalid');
      expect(summary(r)).toEqual([
        ['Signature1', 'invalid', ['changes-unreadable']],
        [name, 'invalid', ['signature-unreadable']],
      ]);
      expect(renderReport('x.pdf', r, 'vi')).toContain('không đọc được chữ ký');
    }
  });

  it('a damaged final startxref, or a final update without its trailer: the earlier revisions are still read', async () => {
    const text = latin1(twice);
    const at = text.lastIndexOf('startxref');
    const offset = Number(/startxref\s+(\d+)/.exec(text.slice(at))![1]);
    const badStartxref = bytes(`${text.slice(0, at)}startxref\n${offset + 7}\n%%EOF\n`);
    const trailer = text.lastIndexOf('trailer');
    const noTrailer = bytes(
      `${text.slice(0, trailer)}${text.slice(text.indexOf('>>\nstartxref', trailer) + 3)}`,
    );
    for (const pdf of [badStartxref, noTrailer]) {
      const r = await signer.verify(pdf);
      expect(r.verdict).toBe('invalid');
      expect(summary(r)).toEqual([
        ['Signature1', 'invalid', ['changes-unreadable']],
        ['Signature2', 'invalid', ['signature-unreadable']],
      ]);
    }
  });

  it('white space after %%EOF — line ends, spaces, NUL padding — is no change', async () => {
    for (const tail of ['\r\n', '   \n\n', '\0'.repeat(4096), '\f\t \r\n\0']) {
      const r = await signer.verify(join(twice, bytes(tail)));
      expect(summary(r), JSON.stringify(tail)).toEqual([
        ['Signature1', 'valid', []],
        ['Signature2', 'valid', []],
      ]);
    }
  });

  it('signing refuses a file with bytes after its last revision, so they never end up inside a signed one', async () => {
    await expect(signer.sign(appendShadow(once))).rejects.toMatchObject({ code: 'bad-structure' });
  });
});

describeWith(
  toolMissing('qpdf', 'pdftotext'),
  'objects appended after %%EOF show in a repairing reader',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    beforeAll(() => {
      tmp = tempDir('kyso-pdf-trailing-');
    });
    afterAll(() => tmp.remove());

    it('qpdf rebuilds the object table from them and the page shows the appended text', async () => {
      const signer = await trustedSigner();
      const signed = await signer.sign(minimalPdf({ pages: 1 }));
      const input = `${tmp.dir}/appended.pdf`;
      writeFileSync(input, appendShadow(signed));
      run('qpdf', [input, `${tmp.dir}/repaired.pdf`]);
      expect(run('pdftotext', [`${tmp.dir}/repaired.pdf`, '-']).stdout).toContain(SHOWN);
      writeFileSync(`${tmp.dir}/signed.pdf`, signed);
      expect(run('pdftotext', [`${tmp.dir}/signed.pdf`, '-']).stdout).not.toContain(SHOWN);
    });
  },
);
