import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IncrementalUpdate,
  type LockFields,
  type PdfDict,
  PdfDocument,
  PdfName,
  type PdfRef,
  type PdfValue,
  type SignPdfOptions,
  timeStampPdf,
  verifyPdf,
} from '../../src/pdf/index.js';
import { describeWith, tempDir, toolMissing } from '../support/env.js';
import {
  addAnnotation,
  annotation,
  attackSigner,
  dict,
  disallowed,
  encodeText,
  fillTextField,
  formPdf,
  name,
  outcome,
  revise,
  stream,
} from './attack-kit.js';
import { minimalPdf } from './fixtures.js';
import type { TestPki } from './pki.js';
import { discPng, strokePng } from './png-writer.js';
import { pdfsig, qpdfCheck } from './tools.js';

// Certification attacks (Mainka et al., "Breaking the Specification: PDF Certification", 2021) and the
// DocMDP and FieldMDP rules they test: what a certified or field-locking signature allows after it.

type Sign = (pdf: Uint8Array, extra?: Partial<SignPdfOptions>) => Promise<Uint8Array>;

/** The fixture's text field widget is at [72 600 300 624] on page 1. */
const FIELD_RECT = [72, 600, 300, 624];

describe('DocMDP and FieldMDP: signing', () => {
  let sign: Sign;
  beforeAll(async () => {
    ({ sign } = await attackSigner());
  });

  it('writes /Reference DocMDP on the signature and /Perms /DocMDP in the catalog, and reports the level', async () => {
    const certified = await sign(minimalPdf({ pages: 1 }), { certify: 1 });
    const doc = PdfDocument.open(certified);
    const [field] = doc.signatureFields();
    const perms = doc.resolve(doc.catalog().get('Perms'));
    expect((perms as PdfDict).get('DocMDP')).toEqual(field.signature?.ref);
    const r = await verifyPdf(certified);
    expect(r.signatures[0].certification).toEqual({ level: 1 });
    expect(r.signatures[0].modifications.status).toBe('none');
  });

  it('certifies only the first signature', async () => {
    const once = await sign(minimalPdf({ pages: 1 }));
    await expect(sign(once, { certify: 2 })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(sign(minimalPdf({ pages: 1 }), { certify: 4 as 1 })).rejects.toMatchObject({
      code: 'bad-input',
    });
  });

  it('writes a /Lock on the field and a FieldMDP reference, and reports the lock', async () => {
    const locked = await sign(minimalPdf({ pages: 1, textField: true }), {
      lockFields: { include: ['Ho ten'] },
    });
    const doc = PdfDocument.open(locked);
    const sig = doc.signatureFields()[0];
    const lock = doc.resolve(sig.dict.get('Lock')) as PdfDict;
    expect(lock.get('Action')).toMatchObject({ value: 'Include' });
    const r = await verifyPdf(locked);
    expect(r.signatures[0].fieldLock).toEqual({ action: 'include', fields: ['Ho ten'] });
    await expect(sign(minimalPdf({ pages: 1 }), { lockFields: { include: [] } })).rejects.toMatchObject({
      code: 'bad-input',
    });
  });
});

describeWith(toolMissing('qpdf', 'pdfsig'), 'certified PDFs pass qpdf --check and pdfsig', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sign: Sign;
  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-mdp-');
    ({ sign } = await attackSigner());
  });
  afterAll(() => tmp.remove());

  it.each([1, 2, 3] as const)('P%i, then a second signature with a field lock', async (level) => {
    const certified = await sign(formPdf(), { certify: level });
    const both = await sign(certified, { lockFields: 'all' });
    for (const [label, pdf] of [
      [`p${level}`, certified],
      [`p${level}-locked`, both],
    ] as const) {
      const check = qpdfCheck(tmp.dir, pdf, label);
      expect(check.ok, check.output).toBe(true);
      const ps = pdfsig(tmp.dir, pdf, label);
      expect(ps.signatures.length, ps.output).toBeGreaterThan(0);
      for (const s of ps.signatures) expect(s.validation, ps.output).toBe('Signature is Valid.');
    }
  });
});

describe('what a signature allows after it', () => {
  let sign: Sign;
  let pki: TestPki;
  let form: Uint8Array;
  beforeAll(async () => {
    ({ sign, pki } = await attackSigner());
    form = formPdf();
  });

  it('two and three signatures in a row: allowed, each verdict as if signed alone', async () => {
    const one = await sign(form);
    const two = await sign(one);
    const three = await sign(two);
    const alone = await verifyPdf(one, { trustAnchors: [pki.root] });
    const r = await verifyPdf(three, { trustAnchors: [pki.root] });
    expect(r.signatures.map((s) => s.modifications.status)).toEqual(['allowed', 'allowed', 'none']);
    expect(r.signatures[0].modifications.changes?.map((c) => c.kind)).toEqual([
      'signature-added',
      'signature-added',
    ]);
    expect(r.signatures[0].verdict).toBe(alone.signatures[0].verdict);
    expect(r.signatures[0].reasons).toEqual(alone.signatures[0].reasons);
  });

  it('a visible leader signature, then the seal over its left third, on a P2-certified document: allowed', async () => {
    const certified = await sign(form, { certify: 2 });
    const leader = await sign(certified, {
      appearance: { kind: 'image', png: strokePng(60, 30, [0, 0, 255]), page: 2, rect: [300, 200, 150, 75] },
    });
    const sealed = await sign(leader, {
      appearance: { kind: 'seal', png: discPng(40, [255, 0, 0]), page: 2, rect: [280, 190, 90, 90] },
    });
    const r = await verifyPdf(sealed);
    expect(r.signatures.map((s) => s.modifications.status)).toEqual(['allowed', 'allowed', 'none']);
    expect(r.signatures[0].modifications.changes?.map((c) => [c.kind, c.visible])).toEqual([
      ['signature-added', true],
      ['signature-added', true],
    ]);
  });

  it('an empty signature field signed later: allowed under P2, flagged under P1', async () => {
    const withEmpty = revise(form, (doc, update) => {
      const field = update.newRef();
      update.set(
        field,
        dict({
          FT: name('Sig'),
          T: encodeText('Empty'),
          Type: name('Annot'),
          Subtype: name('Widget'),
          Rect: [0, 0, 0, 0],
          P: doc.pages()[0].ref,
        }),
      );
      const acro = doc.acroForm()!;
      update.set(
        doc.rootRef(),
        doc
          .catalog()
          .copy()
          .set(
            'AcroForm',
            acro.dict.copy().set('Fields', [...(doc.resolve(acro.dict.get('Fields')) as PdfRef[]), field]),
          ),
      );
    });
    for (const [certify, status] of [
      [2, 'allowed'],
      [1, 'disallowed'],
    ] as const) {
      const certified = await sign(withEmpty, { certify, fieldName: 'Certifier' });
      const filled = revise(certified, (doc, update) => {
        const empty = doc.fields().find((f) => f.name === 'Empty')!;
        const sig = update.newRef();
        update.set(
          sig,
          dict({ Type: name('Sig'), Filter: name('Adobe.PPKLite'), SubFilter: name('ETSI.CAdES.detached') }),
        );
        update.set(empty.ref, empty.dict.copy().set('V', sig));
      });
      const r = await verifyPdf(filled);
      const certifier = r.signatures.find((s) => s.field === 'Certifier')!;
      expect(certifier.modifications.status, `P${certify}`).toBe(status);
      expect(certifier.modifications.changes?.[0]).toMatchObject({
        kind: 'signature-filled',
        field: 'Empty',
      });
    }
  });

  it('ten signatures in a row: every change allowed, and verifying with the analysis stays fast', async () => {
    let pdf = minimalPdf({ pages: 1 });
    for (let i = 0; i < 10; i++) pdf = await sign(pdf);
    await verifyPdf(pdf);
    const start = performance.now();
    const r = await verifyPdf(pdf);
    const ms = performance.now() - start;
    expect(r.signatures.map((s) => s.modifications.status)).toEqual([...Array(9).fill('allowed'), 'none']);
    expect(r.signatures[0].modifications.changes).toHaveLength(9);
    expect(ms).toBeLessThan(1000);
  });

  it('a DSS added later, and extended again, is allowed', async () => {
    const signed = await sign(form, { certify: 1 });
    const withDss = revise(signed, (doc, update) => {
      const cert = update.newRef();
      update.set(cert, stream('not really a certificate'));
      const certs = update.newRef();
      update.set(certs, [cert]);
      const dss = update.newRef();
      update.set(dss, dict({ Type: name('DSS'), Certs: certs }));
      update.set(doc.rootRef(), doc.catalog().copy().set('DSS', dss));
    });
    const extended = revise(withDss, (doc, update) => {
      const dss = doc.catalog().get('DSS') as PdfRef;
      const certsRef = (doc.object(dss) as PdfDict).get('Certs') as PdfRef;
      const more = update.newRef();
      update.set(more, stream('another certificate'));
      update.set(certsRef, [...(doc.object(certsRef) as PdfRef[]), more]);
    });
    const r = await verifyPdf(extended);
    expect(outcome(r)).toMatchObject({ status: 'allowed' });
    expect(r.signatures[0].modifications.changes?.map((c) => c.kind)).toEqual(['dss', 'dss']);
    expect(r.signatures[0].reasons).not.toContain('changes-not-allowed');
  });

  it('a document time-stamp after a P1 certification is allowed', async () => {
    const certified = await sign(form, { certify: 1 });
    const stamped = await timeStampPdf(certified, { stamp: (digest) => pki.tokenFor(digest) });
    const r = await verifyPdf(stamped);
    expect(outcome(r).status).toBe('allowed');
    expect(r.signatures[0].modifications.changes?.map((c) => c.kind)).toEqual(['document-timestamp']);
  });

  it('form filling: allowed without DocMDP and under P2, flagged under P1', async () => {
    for (const [certify, status] of [
      [undefined, 'allowed'],
      [2, 'allowed'],
      [3, 'allowed'],
      [1, 'disallowed'],
    ] as const) {
      const filled = fillTextField(await sign(form, { certify }), 'Tran Thi B');
      const r = await verifyPdf(filled);
      expect(outcome(r).status, `certify ${certify}`).toBe(status);
      expect(r.signatures[0].modifications.changes?.[0]).toMatchObject({
        kind: 'form-fill',
        field: 'Ho ten',
      });
      if (status === 'disallowed') expect(outcome(r).reasons).toContain('changes-not-allowed');
    }
  });

  it('FieldMDP: a locked field changed is flagged; a field the lock leaves out may be filled', async () => {
    const cases: [LockFields, string][] = [
      ['all', 'disallowed'],
      [{ include: ['Ho ten'] }, 'disallowed'],
      [{ exclude: ['Ho ten'] }, 'allowed'],
      [{ include: ['Other'] }, 'allowed'],
    ];
    for (const [lockFields, status] of cases) {
      const filled = fillTextField(await sign(form, { lockFields }), 'Tran Thi B');
      const r = await verifyPdf(filled);
      expect(outcome(r).status, JSON.stringify(lockFields)).toBe(status);
      if (status === 'disallowed') expect(disallowed(r)[0]).toContain('the field Ho ten is locked');
    }
    // A lock on a later signature binds what follows it, not what came before.
    const locked = await sign(await sign(form), { lockFields: 'all' });
    const r = await verifyPdf(fillTextField(locked, 'Tran Thi B'));
    expect(r.signatures.map((s) => s.modifications.status)).toEqual(['allowed', 'disallowed']);
  });
});

describe('certification attacks: every case is flagged', () => {
  let sign: Sign;
  let form: Uint8Array;
  let p2: Uint8Array;
  let p3: Uint8Array;
  beforeAll(async () => {
    ({ sign } = await attackSigner());
    form = formPdf();
    p2 = await sign(form, { certify: 2 });
    p3 = await sign(form, { certify: 3 });
  });

  const expectFlagged = async (pdf: Uint8Array, phrase: string) => {
    const r = await verifyPdf(pdf);
    expect(r.verdict).toBe('invalid');
    expect(outcome(r)).toMatchObject({ verdict: 'invalid', status: 'disallowed' });
    expect(outcome(r).reasons).toContain('changes-not-allowed');
    expect(disallowed(r).join('\n')).toContain(phrase);
    return r;
  };

  /** A new field whose widget is added to page 1 and to the form in one revision. */
  const addField = (pdf: Uint8Array, entries: Record<string, PdfValue>, appearance?: string) =>
    revise(pdf, (doc, update) => {
      const page = doc.pages()[0];
      const widget = update.newRef();
      let ap: PdfRef | undefined;
      if (appearance) {
        ap = update.newRef();
        update.set(ap, stream(appearance));
      }
      update.set(
        widget,
        dict({
          Type: name('Annot'),
          Subtype: name('Widget'),
          P: page.ref,
          AP: ap && dict({ N: ap }),
          ...entries,
        }),
      );
      const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
      update.set(page.ref, page.dict.copy().set('Annots', [...annots, widget]));
      const acro = doc.acroForm()!;
      const fields = doc.resolve(acro.dict.get('Fields')) as PdfRef[];
      update.set(acro.ref!, acro.dict.copy().set('Fields', [...fields, widget]));
    });

  describe('evil annotation', () => {
    it('a FreeText annotation over the text under P2', async () => {
      const pdf = addAnnotation(p2, 0, (_, u) => annotation(u, 'FreeText', [72, 710, 300, 745]));
      await expectFlagged(pdf, 'FreeText annotation was added to page 1');
    });

    it('a Stamp annotation under P2, and under no certification at all', async () => {
      await expectFlagged(
        addAnnotation(p2, 1, (_, u) => annotation(u, 'Stamp', [72, 710, 300, 745])),
        'Stamp annotation was added to page 2',
      );
      const plain = await sign(form);
      await expectFlagged(
        addAnnotation(plain, 0, (_, u) => annotation(u, 'Stamp', [72, 710, 300, 745])),
        'annotations may not change after this signature',
      );
    });

    it('a FreeText or a Square under P3, which allows only comments', async () => {
      await expectFlagged(
        addAnnotation(p3, 0, (_, u) => annotation(u, 'FreeText', [72, 710, 300, 745])),
        'an annotation that can paint over the page',
      );
      await expectFlagged(
        addAnnotation(p3, 0, (_, u) => annotation(u, 'Square', [72, 710, 300, 745])),
        'Square annotation was added',
      );
    });

    it('a P3 sticky note (Text) is allowed: the positive case', async () => {
      const pdf = addAnnotation(p3, 0, (_, u) => annotation(u, 'Text', [20, 20, 40, 40], 'note'));
      const r = await verifyPdf(pdf);
      expect(outcome(r).status).toBe('allowed');
      expect(r.signatures[0].modifications.changes?.[0]).toMatchObject({ kind: 'annotation', comment: true });
    });

    it('a widget of a new text field with a value painted over the content under P2', async () => {
      const pdf = addField(
        p2,
        {
          FT: name('Tx'),
          T: encodeText('amount'),
          V: encodeText('10.000.000 VND'),
          Rect: [72, 700, 400, 750],
        },
        'BT /Helv 24 Tf 2 6 Td (10.000.000 VND) Tj ET',
      );
      await expectFlagged(pdf, 'a new Tx field amount was added');
    });

    it('an existing annotation hidden (its /F set to Hidden) after signing under P3', async () => {
      const withNote = addAnnotation(form, 0, (_, u) => annotation(u, 'FreeText', [72, 700, 300, 745]));
      const signed = await sign(withNote, { certify: 3 });
      const doc = PdfDocument.open(signed);
      const annots = doc.resolve(doc.pages()[0].dict.get('Annots')) as PdfRef[];
      const note = annots.find((a) => {
        const subtype = (doc.object(a) as PdfDict).get('Subtype');
        return subtype instanceof PdfName && subtype.value === 'FreeText';
      })!;
      const hidden = revise(signed, (d, u) => {
        u.set(note, (d.object(note) as PdfDict).copy().set('F', 2));
      });
      await expectFlagged(hidden, 'FreeText annotation on page 1 was changed');
    });
  });

  describe('sneaky signature', () => {
    it('an unsigned signature field with a visible appearance under P2', async () => {
      const pdf = addField(
        p2,
        { FT: name('Sig'), T: encodeText('Sneaky'), Rect: [300, 100, 528, 135] },
        '1 1 1 rg 0 0 228 35 re f 0 g BT /Helv 12 Tf 2 6 Td (Tran Van C) Tj ET',
      );
      await expectFlagged(pdf, 'a visible signature field that is not signed');
    });

    it('a signed signature whose appearance covers the form field under P2', async () => {
      const png = strokePng(40, 20, [0, 0, 255]);
      const pdf = await sign(p2, {
        appearance: { kind: 'image', png, page: 1, rect: [FIELD_RECT[0], FIELD_RECT[1], 228, 24] },
      });
      const r = await expectFlagged(pdf, 'a signature appearance covers a Widget annotation');
      // The sneaky signature itself covers the whole file and is intact.
      expect(r.signatures[1].integrity.digest).toBe('passed');
    });

    it('a signed signature whose appearance paints over the page text under P2', async () => {
      const png = strokePng(40, 20, [0, 0, 255]);
      const pdf = await sign(p2, { appearance: { kind: 'image', png, page: 1, rect: [60, 700, 300, 60] } });
      await expectFlagged(pdf, 'a signature appearance covers the text “Trang 1 / Page 1” on page 1');
      // Without a certification the same signature is allowed: the signer's own choice of place.
      const plain = await sign(await sign(form), {
        appearance: { kind: 'image', png, page: 1, rect: [60, 700, 300, 60] },
      });
      expect((await verifyPdf(plain)).signatures[0].modifications.status).toBe('allowed');
    });

    it('a signature widget on a page but in no form field, under P2', async () => {
      const pdf = revise(p2, (doc, update) => {
        const page = doc.pages()[0];
        const widget = update.newRef();
        update.set(
          widget,
          dict({
            FT: name('Sig'),
            Type: name('Annot'),
            Subtype: name('Widget'),
            Rect: [72, 710, 300, 745],
            P: page.ref,
          }),
        );
        const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
        update.set(page.ref, page.dict.copy().set('Annots', [...annots, widget]));
      });
      await expectFlagged(pdf, 'a widget of no new signature field was added to page 1');
    });

    it('any later signature on a P1-certified document', async () => {
      const p1 = await sign(form, { certify: 1 });
      await expectFlagged(await sign(p1), 'the certification (P1) allows no further signatures');
    });

    it('a signature that also changes the NeedAppearances flag of the form', async () => {
      const signedAgain = await sign(p2);
      const pdf = revise(signedAgain, (doc, update) => {
        const acro = doc.acroForm()!;
        update.set(acro.ref!, acro.dict.copy().set('NeedAppearances', true));
      });
      await expectFlagged(pdf, 'the form’s /NeedAppearances changed');
    });
  });

  it('an incremental update that only rewrites objects with identical values is no change', async () => {
    const pdf = revise(p2, (doc, update: IncrementalUpdate) => {
      const page = doc.pages()[1];
      update.set(page.ref, page.dict.copy());
    });
    const r = await verifyPdf(pdf);
    expect(outcome(r).status).toBe('allowed');
    expect(r.signatures[0].modifications.changes).toEqual([]);
  });
});
