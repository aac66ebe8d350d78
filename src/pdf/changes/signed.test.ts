import { describe, expect, it } from 'vitest';
import { minimalPdf } from '../../../test/pdf/fixtures.js';
import { IncrementalUpdate, PdfDict, PdfDocument, PdfRef, PdfStream, Revisions } from '../syntax/index.js';
import { RevisionDiffs } from './analysis.js';
import {
  signaturesAfterLastRevision,
  trailingData,
  trailingDataRule,
  undefinedObjects,
  undefinedObjectsRule,
} from './signed.js';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** Appends a revision whose objects the callback sets. */
function revise(pdf: Uint8Array, change: (doc: PdfDocument, update: IncrementalUpdate) => void): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const update = new IncrementalUpdate(doc);
  change(doc, update);
  return update.write().bytes;
}

/** Appends a hand-written revision defining `num gen` as a stream (or, with free, marking it free). */
function define(pdf: Uint8Array, num: number, gen: number, free = false): Uint8Array {
  const doc = PdfDocument.open(pdf);
  let out = text(pdf);
  const at = out.length;
  if (!free) out += `${num} ${gen} obj\n<< /Length 5 >>\nstream\nBT ET\nendstream\nendobj\n`;
  const xref = out.length;
  const row = free
    ? `0000000000 ${String(gen).padStart(5, '0')} f`
    : `${String(at).padStart(10, '0')} ${String(gen).padStart(5, '0')} n`;
  out += `xref\n0 1\n0000000000 65535 f\r\n${num} 1\n${row}\r\ntrailer\n<< /Size ${Math.max(doc.size, num + 1)} /Root 1 0 R /Prev ${doc.startxref} >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1(out);
}

/** The fixture with page 1's /Contents also naming object `num gen`, which nothing defines. */
function naming(num: number, gen = 0): Uint8Array {
  return revise(minimalPdf({ pages: 1 }), (doc, update) => {
    const page = doc.pages()[0];
    update.set(
      page.ref,
      page.dict.copy().set('Contents', [page.dict.get('Contents') as PdfRef, new PdfRef(num, gen)]),
    );
  });
}

const diffsOf = (pdf: Uint8Array) => new RevisionDiffs(new Revisions(PdfDocument.open(pdf)));

describe('the undefined-objects rule', () => {
  it('walks a revision from its trailer and collects what it names without defining', () => {
    expect(undefinedObjects(PdfDocument.open(minimalPdf({ pages: 2 })))).toEqual(new Set());
    expect(undefinedObjects(PdfDocument.open(naming(40)))).toEqual(new Set([40]));
    // Free at the generation named, or defined at another generation: both count.
    expect(undefinedObjects(PdfDocument.open(define(naming(40, 3), 40, 3, true)))).toEqual(new Set([40]));
    expect(undefinedObjects(PdfDocument.open(naming(5, 1)))).toEqual(new Set([5]));
    // An object nothing reachable names is no concern of the signed pages.
    const orphan = revise(minimalPdf({ pages: 1 }), (_, update) => {
      update.set(update.newRef(), new PdfStream(new PdfDict([['Names', new PdfRef(77, 0)]]), latin1('')));
    });
    expect(undefinedObjects(PdfDocument.open(orphan))).toEqual(new Set());
  });

  it('flags a later definition of such a number, at the generation named or another, once', () => {
    const signed = naming(40, 2);
    for (const gen of [2, 0]) {
      const pdf = define(define(signed, 40, gen), 40, gen);
      const changes = undefinedObjectsRule.changes(diffsOf(pdf), 1);
      expect(changes).toEqual([
        {
          revision: 3,
          kind: 'disallowed',
          description: 'object 40, which the signed revision names but does not define, was defined',
        },
      ]);
    }
  });

  it('leaves alone new objects the signed revision does not name, and marking a number free again', () => {
    const signed = naming(40);
    expect(undefinedObjectsRule.changes(diffsOf(define(signed, 41, 0)), 1)).toEqual([]);
    expect(undefinedObjectsRule.changes(diffsOf(define(signed, 40, 0, true)), 1)).toEqual([]);
  });
});

describe('the trailing-data rule', () => {
  const base = minimalPdf({ pages: 1 });

  it('finds nothing when only white space follows the last %%EOF, NUL padding included', () => {
    for (const tail of ['', '\r\n', ' \t\f\0\0\n'])
      expect(trailingData(PdfDocument.open(latin1(text(base) + tail)))).toBeUndefined();
  });

  it('finds anything else, and makes it one unreadable change after the last revision', () => {
    const pdf = latin1(`${text(base)}9 0 obj\n(x)\nendobj\n`);
    expect(trailingData(PdfDocument.open(pdf))).toEqual({ offset: base.length, length: 19 });
    expect(trailingDataRule.changes(diffsOf(pdf), 0)).toEqual([
      {
        revision: 2,
        kind: 'unreadable',
        description: `19 bytes after the last revision (from offset ${base.length}) are not a readable revision`,
      },
    ]);
  });

  it('reads a file whose last startxref is cut short from the one before it', () => {
    const twice = revise(base, () => {});
    const cut = twice.subarray(0, twice.length - 12);
    const doc = PdfDocument.open(cut);
    expect(doc.end).toBe(base.length);
    expect(trailingData(doc)).toEqual({ offset: base.length, length: cut.length - base.length });
  });

  it('lists the signature fields and signature dictionaries it finds in the bytes after the last revision', () => {
    const field = '10 0 obj\n<< /FT /Sig /T (Ch\\341 k\\375 2) /V 11 0 R >>\nendobj\n';
    const value = '11 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>\nendobj\n';
    const names = (tail: string) =>
      signaturesAfterLastRevision(new Revisions(PdfDocument.open(latin1(text(base) + tail))));
    expect(names(field + value)).toEqual(['Chá ký 2']);
    expect(names(value)).toEqual(['object 11']);
    expect(names('12 0 obj\n<< /Type /Annot >>\nendobj\n')).toEqual([]);
    expect(names('\n\n')).toEqual([]);
  });
});
