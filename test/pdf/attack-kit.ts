import {
  dict,
  encodeText,
  IncrementalUpdate,
  name,
  PdfDict,
  PdfDocument,
  PdfRef,
  PdfStream,
  type SignPdfOptions,
  signPdf,
  type VerificationReport,
} from '../../src/pdf/index.js';
import { minimalPdf } from './fixtures.js';
import { makeKey, makePki, signerOf, type TestPki } from './pki.js';

// Tools for crafting the adversarial set: signers, and later revisions written by hand with the
// incremental writer, the way an attacker with a PDF library would write them.

export const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
export const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** A stream holding the given content text. */
export const stream = (text: string, d: PdfDict = new PdfDict()) => new PdfStream(d, bytes(text));

/** A signer for the attack tests: one key and certificate from a fresh test PKI. */
export async function attackSigner(): Promise<{
  pki: TestPki;
  sign(pdf: Uint8Array, extra?: Partial<SignPdfOptions>): Promise<Uint8Array>;
}> {
  const pki = await makePki();
  const key = makeKey('ec');
  const certificate = await pki.leaf(key, 'Nguyễn Văn Tấn Công');
  return {
    pki,
    sign: (pdf, extra = {}) =>
      signPdf(pdf, { signer: signerOf(key, 'ECDSA-SHA256'), certificate, chain: [pki.issuing], ...extra }),
  };
}

/** Appends one revision whose objects the callback sets. */
export function revise(
  pdf: Uint8Array,
  change: (doc: PdfDocument, update: IncrementalUpdate) => void,
): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const update = new IncrementalUpdate(doc);
  change(doc, update);
  return update.write().bytes;
}

/** Appends an annotation to a page's /Annots (the page dictionary rewritten) in a new revision. */
export function addAnnotation(
  pdf: Uint8Array,
  page: number,
  annotation: (doc: PdfDocument, update: IncrementalUpdate) => PdfRef,
): Uint8Array {
  return revise(pdf, (doc, update) => {
    const p = doc.pages()[page];
    const ref = annotation(doc, update);
    const annots = doc.resolve(p.dict.get('Annots'));
    update.set(p.ref, p.dict.copy().set('Annots', [...(Array.isArray(annots) ? annots : []), ref]));
  });
}

/** A new annotation object of a subtype over a rectangle, with an appearance that paints text. */
export function annotation(
  update: IncrementalUpdate,
  subtype: string,
  rect: number[],
  text = 'PAID',
): PdfRef {
  const ap = update.newRef();
  update.set(
    ap,
    stream(
      `1 1 1 rg 0 0 ${rect[2] - rect[0]} ${rect[3] - rect[1]} re f 0 g BT /Helv 12 Tf 2 6 Td (${text}) Tj ET`,
      dict({
        Type: name('XObject'),
        Subtype: name('Form'),
        BBox: [0, 0, rect[2] - rect[0], rect[3] - rect[1]],
      }),
    ),
  );
  const ref = update.newRef();
  update.set(
    ref,
    dict({
      Type: name('Annot'),
      Subtype: name(subtype),
      Rect: rect,
      Contents: encodeText(text),
      F: 4,
      AP: dict({ N: ap }),
    }),
  );
  return ref;
}

/** Fills the fixture's text field "Ho ten" with a new value and appearance, as a form filler would. */
export function fillTextField(pdf: Uint8Array, value: string): Uint8Array {
  return revise(pdf, (doc, update) => {
    const field = doc.fields().find((f) => f.name === 'Ho ten');
    if (!field) throw new Error('no field Ho ten');
    const ap = update.newRef();
    update.set(ap, stream(`/Tx BMC BT /Helv 12 Tf 2 6 Td (${value}) Tj ET EMC`));
    update.set(
      field.ref,
      field.dict
        .copy()
        .set('V', encodeText(value))
        .set('AP', dict({ N: ap })),
    );
  });
}

/** The reasons and modification status of signature i. */
export function outcome(r: VerificationReport, i = 0) {
  const s = r.signatures[i];
  return { verdict: s.verdict, reasons: s.reasons, status: s.modifications.status };
}

/** The descriptions of the changes signature i's policy does not allow. */
export function disallowed(r: VerificationReport, i = 0): string[] {
  return (r.signatures[i].modifications.changes ?? []).filter((c) => !c.allowed).map((c) => c.description);
}

export { dict, encodeText, name, PdfRef, PdfStream };

/**
 * The fixture with a text field "Ho ten", its widget also listed in page 1's /Annots (minimalPdf's
 * textField puts /Annots inside the page's font resources, so viewers never show the widget).
 */
export function formPdf(pages = 2): Uint8Array {
  return revise(minimalPdf({ pages, textField: true }), (doc, update) => {
    const field = doc.fields().find((f) => f.name === 'Ho ten')!;
    const page = doc.pages()[0];
    update.set(page.ref, page.dict.copy().set('Annots', [field.ref]));
  });
}
