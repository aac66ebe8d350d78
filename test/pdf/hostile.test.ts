import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument, PdfRef, Revisions, verifyPdf } from '../../src/pdf/index.js';
import { kyso, tempDir } from '../support/env.js';
import { attackSigner } from './attack-kit.js';
import { minimalPdf } from './fixtures.js';
import { manyRevisions } from './hostile.js';

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
    expect(report.error).toEqual({ code: 'limit', message: 'more than 10 cross-reference sections' });
  });
});
