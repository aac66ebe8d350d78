import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument, PdfError, PdfRef, PdfString, Revisions, verifyPdf } from '../../src/pdf/index.js';
import { ByteWriter, formatString, writeValue } from '../../src/pdf/syntax/objects.js';
import { toPem } from '../../src/pki/index.js';
import { kyso, tempDir } from '../support/env.js';
import { attackSigner } from './attack-kit.js';
import { minimalPdf } from './fixtures.js';
import { longArray, manyRevisions, nestedParentheses, pdfWith } from './hostile.js';
import { makeKey, makePki } from './pki.js';

// Hostile files stay cheap (issue 8 §4): what a file can make the verifier do grows with its size, and
// past the limits it is refused with a reason. No timing asserts: counts, shared objects and a memory
// ceiling on a child process.

const tmp = tempDir('kyso-hostile-');
afterAll(() => tmp.remove());

let signed: Uint8Array;
beforeAll(async () => {
  signed = await (await attackSigner()).sign(minimalPdf({ pages: 1 }));
});

describe('many incremental updates', () => {
  it('reads the cross-reference chain once and shares the parsed objects between revisions', () => {
    const doc = PdfDocument.open(manyRevisions(signed, 50));
    const revisions = new Revisions(doc);
    expect(revisions.list).toHaveLength(52);
    const catalog = doc.rootRef();
    const first = revisions.document(1);
    for (let i = 2; i < revisions.list.length; i++) {
      const rev = revisions.document(i);
      // One section per update, the very section the latest document read, not a copy read again.
      const added = rev.sectionsSince(revisions.document(i - 1));
      expect(added).toHaveLength(1);
      expect(doc.sections).toContain(added[0]);
      // The catalog, unchanged since the signature, is parsed once for all revisions.
      expect(rev.object(catalog)).toBe(first.object(catalog));
      expect(rev.trailerEntry('Info')).toBeInstanceOf(PdfRef);
    }
    const info = doc.trailerEntry('Info') as PdfRef;
    // Each revision still sees its own version of the object the updates rewrite.
    expect(revisions.document(10).object(info)).not.toBe(revisions.document(11).object(info));
    expect(revisions.document(1).size).toBe(revisions.document(51).size);
  });

  it('verifies 50 updates and reports each one as an allowed metadata change', async () => {
    const report = await verifyPdf(manyRevisions(signed, 50));
    expect(report.revisions).toBe(52);
    const changes = report.signatures[0].modifications!;
    expect(changes.status).toBe('allowed');
    expect(changes.changes?.filter((c) => c.kind === 'metadata')).toHaveLength(50);
  });

  it('verifies 4,000 updates within 256 MiB of heap (the old reader re-read every chain and ran out)', () => {
    const file = path.join(tmp.dir, 'revisions-4000.pdf');
    writeFileSync(file, manyRevisions(signed, 4_000));
    const r = kyso(['pdf', 'verify', file, '--json', '--offline'], {
      env: { NODE_OPTIONS: '--max-old-space-size=256' },
    });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.revisions).toBe(4_002);
    expect(report.signatures[0].integrity).toEqual({
      byteRange: 'passed',
      digest: 'passed',
      signature: 'passed',
    });
    expect(report.signatures[0].modifications.status).toBe('allowed');
  });

  it('refuses more sections than the limit with a reason, as a report', async () => {
    const report = await verifyPdf(manyRevisions(signed, 20), { read: { maxSections: 10 } });
    expect(report.verdict).toBe('invalid');
    expect(report.error).toEqual({
      code: 'limit',
      message: 'hơn 10 phiên bản (bảng tham chiếu chéo) / more than 10 cross-reference sections',
    });
  });
});

describe('large values', () => {
  const signer = async () => {
    const pki = await makePki();
    const key = makeKey('ec');
    writeFileSync(path.join(tmp.dir, 'signer.key'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(tmp.dir, 'signer.crt'), toPem('CERTIFICATE', await pki.leaf(key, 'Lê Văn Lớn')));
    return ['--key', path.join(tmp.dir, 'signer.key'), '--cert', path.join(tmp.dir, 'signer.crt')];
  };
  /** Signs a file through the CLI in a process whose heap is capped at 512 MiB; returns the signed file. */
  const signCapped = (name: string, pdf: Uint8Array, credentials: string[]) => {
    const input = path.join(tmp.dir, `${name}.pdf`);
    const output = path.join(tmp.dir, `${name}-signed.pdf`);
    writeFileSync(input, pdf);
    const r = kyso(['pdf', 'sign', input, '--out', output, ...credentials], {
      env: { NODE_OPTIONS: '--max-old-space-size=512' },
    });
    expect(r.code, r.stderr).toBe(0);
    return output;
  };

  it('signs and verifies a catalog holding millions of nested parentheses within 512 MiB of heap', async () => {
    const credentials = await signer();
    const output = signCapped('parentheses', pdfWith(nestedParentheses(4_000_000)), credentials);
    const v = kyso(['pdf', 'verify', output, '--json', '--offline'], {
      env: { NODE_OPTIONS: '--max-old-space-size=512' },
    });
    const report = JSON.parse(v.stdout);
    expect(report.signatures[0].integrity.digest).toBe('passed');
    // The string (the outermost pair delimits it) came back unchanged: every parenthesis was escaped.
    const hostile = PdfDocument.open(new Uint8Array(readFileSync(output)))
      .catalog()
      .get('Hostile');
    expect(Buffer.compare((hostile as PdfString).bytes, nestedParentheses(4_000_000 - 1))).toBe(0);
  });

  it('signs a catalog holding an array of 3 million numbers within 512 MiB of heap', async () => {
    const credentials = await signer();
    const output = signCapped('array', pdfWith(longArray(3_000_000)), credentials);
    const hostile = PdfDocument.open(new Uint8Array(readFileSync(output)))
      .catalog()
      .get('Hostile');
    expect((hostile as number[]).length).toBe(3_000_000);
  });

  it('refuses a file of many small dictionaries before they fill the heap', async () => {
    const dicts = Buffer.concat([Buffer.from('['), Buffer.alloc(2_000_000 * 4, '<<>>'), Buffer.from(']')]);
    const pdf = pdfWith(dicts);
    expect(() => PdfDocument.open(pdf).catalog()).toThrow(
      new PdfError(
        'limit',
        'các đối tượng đọc từ tệp sẽ chiếm hơn 64 MiB bộ nhớ / the objects read would take more than 64 MiB of memory',
      ),
    );
    const report = await verifyPdf(pdf);
    expect(report.error?.code).toBe('limit');
    // The bound follows the file's size: a smaller budget refuses what the default reads.
    expect(() => PdfDocument.open(pdfWith(longArray(1000)), { maxObjectBytes: 4096 }).catalog()).toThrow(
      /more than 0 MiB/,
    );
  });

  it('writes strings of parentheses and backslashes escaped, in one pass', () => {
    const out = new ByteWriter();
    writeValue(out, new PdfString(new Uint8Array(Buffer.from('a(b)c\\d((', 'latin1'))));
    expect(Buffer.from(out.toBytes()).toString('latin1')).toBe('(a\\(b\\)c\\\\d\\(\\()');
    // 24 million nested pairs, a 48 MB string the lexer accepts: escaping it match by match with a
    // regular expression aborted V8 ("Fatal JavaScript invalid size error").
    const written = formatString(new PdfString(new Uint8Array(nestedParentheses(24_000_000))));
    expect(written.length).toBe(96_000_002);
    expect(written.slice(0, 5)).toBe('(\\(\\(');
    expect(written.slice(-5)).toBe('\\)\\))');
  });
});
