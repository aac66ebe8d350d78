import {
  dict,
  encodeText,
  extendPdf,
  IncrementalUpdate,
  name,
  PdfDict,
  PdfDocument,
  PdfRef,
  PdfStream,
  type RevocationSource,
  type SignPdfOptions,
  signPdf,
  type VerificationReport,
  verifyPdf,
} from '../../src/pdf/index.js';
import {
  buildCertificate,
  buildCrl,
  ext,
  keyIdentifier,
  parseCertificate,
  parseName,
  randomSerial,
} from '../../src/pki/index.js';
import { signFunction } from '../support/keys.js';
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

/**
 * A signer whose signatures come out `valid`: its leaf names a CRL distribution point, and the
 * verify options trust the issuing CA and answer that point with an empty CRL the CA signed. So a
 * test can show that an attack passes as valid, not merely as indeterminate.
 */
export async function trustedSigner(): Promise<{
  sign(pdf: Uint8Array, extra?: Partial<SignPdfOptions>): Promise<Uint8Array>;
  verify(pdf: Uint8Array): Promise<VerificationReport>;
  /** Adds the DSS and a document time-stamp (B-LTA). */
  extendLta(pdf: Uint8Array): Promise<Uint8Array>;
  /** Verifies with only what the document holds. */
  verifyOffline(pdf: Uint8Array): Promise<VerificationReport>;
}> {
  const pki = await makePki();
  const key = makeKey('ec');
  const now = Date.now();
  const url = 'http://crl.kyso.test/issuing.crl';
  const issuingName = parseCertificate(pki.issuing).subjectDer;
  const certificate = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: issuingName,
      subject: parseName('C=VN, O=UBND tỉnh Thử nghiệm, CN=Trần Thị Ký'),
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 86_400_000 * 365),
      publicKey: key.spki,
      signatureAlgorithm: 'ECDSA-SHA256',
      extensions: [
        ext.basicConstraints(false),
        ext.keyUsage(['digitalSignature', 'nonRepudiation']),
        ext.crlDistributionPoints([url]),
        ext.subjectKeyIdentifier(keyIdentifier(key.spki)),
        ext.authorityKeyIdentifier(keyIdentifier(pki.issuingKey.spki)),
      ],
    },
    signFunction(pki.issuingKey, 'ECDSA-SHA256'),
  );
  const crl = await buildCrl(
    {
      issuer: issuingName,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 86_400_000),
      number: 1n,
      signatureAlgorithm: 'ECDSA-SHA256',
      authorityKeyId: keyIdentifier(pki.issuingKey.spki),
    },
    [],
    signFunction(pki.issuingKey, 'ECDSA-SHA256'),
  );
  const revocation: RevocationSource = {
    ocsp: async () => undefined,
    crl: async (u) => (u === url ? crl : undefined),
  };
  return {
    sign: (pdf, extra = {}) =>
      signPdf(pdf, { signer: signerOf(key, 'ECDSA-SHA256'), certificate, chain: [pki.issuing], ...extra }),
    verify: (pdf) => verifyPdf(pdf, { trustAnchors: [pki.issuing], revocation }),
    extendLta: async (pdf) =>
      (
        await extendPdf(pdf, {
          level: 'B-LTA',
          source: revocation,
          certificates: [pki.issuing],
          stamp: (digest) => pki.tokenFor(digest),
        })
      ).pdf,
    verifyOffline: (pdf) => verifyPdf(pdf, { trustAnchors: [pki.issuing] }),
  };
}

/** An object written by hand: any number and generation, a body in PDF syntax. */
export interface RawDefinition {
  num: number;
  gen: number;
  body: string;
}

/**
 * Appends a revision written by hand, as an attacker's tool would: the objects, and a cross-reference
 * table that defines them and marks the given numbers free with the given next generation.
 */
export function appendRaw(
  pdf: Uint8Array,
  objects: RawDefinition[],
  free: { num: number; gen: number }[] = [],
  prev = PdfDocument.open(pdf).startxref,
): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const root = doc.rootRef();
  let text = latin1(pdf).endsWith('\n') ? '' : '\n';
  const rows = new Map<number, string>();
  for (const o of objects) {
    rows.set(
      o.num,
      `${String(pdf.length + text.length).padStart(10, '0')} ${String(o.gen).padStart(5, '0')} n`,
    );
    text += `${o.num} ${o.gen} obj\n${o.body}\nendobj\n`;
  }
  for (const f of free) rows.set(f.num, `0000000000 ${String(f.gen).padStart(5, '0')} f`);
  const xref = pdf.length + text.length;
  text += 'xref\n0 1\n0000000000 65535 f\r\n';
  for (const [num, row] of [...rows].sort((a, b) => a[0] - b[0])) text += `${num} 1\n${row}\r\n`;
  const size = Math.max(doc.size, ...[...rows.keys()].map((n) => n + 1));
  text += `trailer\n<< /Size ${size} /Root ${root.num} ${root.gen} R /Prev ${prev} >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.concat([pdf, bytes(text)]));
}

/** A stream object's body in PDF syntax. */
export const streamBody = (text: string, entries = '') =>
  `<< /Length ${text.length}${entries} >>\nstream\n${text}endstream`;
