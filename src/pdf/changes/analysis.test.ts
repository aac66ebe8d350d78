import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { minimalPdf } from '../../../test/pdf/fixtures.js';
import {
  IncrementalUpdate,
  PdfDict,
  PdfDocument,
  PdfName,
  PdfReal,
  type PdfRef,
  PdfStream,
  PdfString,
  Revisions,
} from '../syntax/index.js';
import { analyseChanges, RevisionDiffs } from './analysis.js';

/** Appends a revision whose objects the callback sets. */
function revise(pdf: Uint8Array, change: (doc: PdfDocument, update: IncrementalUpdate) => void): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const update = new IncrementalUpdate(doc);
  change(doc, update);
  return update.write().bytes;
}

const diffsOf = (pdf: Uint8Array) => new RevisionDiffs(new Revisions(PdfDocument.open(pdf)));

describe('difference analysis', () => {
  const base = minimalPdf({ pages: 1 });

  it('finds nothing after the last revision, and nothing in an identical rewrite', () => {
    expect(analyseChanges(diffsOf(base), 0, { locks: [] })).toEqual({
      status: 'none',
      changes: [],
      undefinedObjects: [],
    });
    // Same values written differently: a real for an integer, a hex string for a literal one.
    const same = revise(base, (doc, update) => {
      const info = doc.trailerEntry('Info') as PdfRef;
      const page = doc.pages()[0];
      update.set(page.ref, page.dict.copy());
      const d = (doc.object(info) as PdfDict).copy();
      const title = d.get('Title') as PdfString;
      update.set(info, d.set('Title', new PdfString(title.bytes, true)));
      const tree = doc.catalog().get('Pages') as PdfRef;
      const pages = (doc.object(tree) as PdfDict).copy();
      update.set(tree, pages.set('Count', new PdfReal(1)));
    });
    expect(analyseChanges(diffsOf(same), 0, { locks: [] })).toEqual({
      status: 'allowed',
      changes: [],
      undefinedObjects: [],
    });
  });

  it('a content stream compressed again with the same data is no change; other data is', () => {
    const doc = PdfDocument.open(base);
    const content = doc.pages()[0].dict.get('Contents') as PdfRef;
    const data = (doc.object(content) as PdfStream).data;
    const flate = (bytes: Uint8Array) =>
      revise(base, (_, update) =>
        update.set(
          content,
          new PdfStream(new PdfDict([['Filter', new PdfName('FlateDecode')]]), deflateSync(bytes)),
        ),
      );
    expect(analyseChanges(diffsOf(flate(data)), 0, { locks: [] }).status).toBe('allowed');
    expect(analyseChanges(diffsOf(flate(Buffer.from('BT ET'))), 0, { locks: [] }).status).toBe('disallowed');
  });

  it('sorts changes into kinds: metadata allowed, a page stream disallowed', () => {
    const pdf = revise(base, (doc, update) => {
      const info = doc.trailerEntry('Info') as PdfRef;
      update.set(info, (doc.object(info) as PdfDict).copy().set('Title', new PdfString(Buffer.from('X'))));
      const content = doc.pages()[0].dict.get('Contents') as PdfRef;
      update.set(content, new PdfStream(new PdfDict(), Buffer.from('BT ET')));
    });
    const a = analyseChanges(diffsOf(pdf), 0, { locks: [] });
    expect(a.status).toBe('disallowed');
    expect(a.changes.map((c) => [c.kind, c.allowed])).toEqual([
      ['metadata', true],
      ['disallowed', false],
    ]);
  });

  it('a catalog that /Info also names is still judged as the catalog', () => {
    const text = Buffer.from(base).toString('latin1');
    const aliased = new Uint8Array(Buffer.from(text.replace('/Info 4 0 R', '/Info 1 0 R'), 'latin1'));
    const pdf = revise(aliased, (doc, update) =>
      update.set(doc.rootRef(), doc.catalog().copy().set('OpenAction', new PdfName('x'))),
    );
    const a = analyseChanges(diffsOf(pdf), 0, { locks: [] });
    expect(a.changes.map((c) => c.description)).toEqual(['the catalog’s /OpenAction changed']);
  });

  it('fails closed: a later revision it cannot read is unreadable', () => {
    const pdf = revise(base, (doc, update) => {
      const tree = doc.catalog().get('Pages') as PdfRef;
      update.set(tree, new PdfName('broken'));
    });
    const a = analyseChanges(diffsOf(pdf), 0, { locks: [] });
    expect(a.status).toBe('unreadable');
    expect(a.changes[0]).toMatchObject({ kind: 'unreadable', allowed: false, revision: 2 });
  });

  it('compares each revision once, however many signatures ask', () => {
    const pdf = revise(
      revise(base, () => {}),
      () => {},
    );
    const diffs = diffsOf(pdf);
    const step = diffs.step(2);
    expect(diffs.step(2)).toBe(step);
    expect(analyseChanges(diffs, 0, { locks: [] }).status).toBe('allowed');
  });
});
