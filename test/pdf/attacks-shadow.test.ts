import { beforeAll, describe, expect, it } from 'vitest';
import {
  type PdfDict,
  PdfDocument,
  PdfRef,
  renderReport,
  type SignPdfOptions,
  verifyPdf,
} from '../../src/pdf/index.js';
import { describeWith, tempDir, toolMissing } from '../support/env.js';
import {
  addAnnotation,
  annotation,
  attackSigner,
  bytes,
  dict,
  disallowed,
  encodeText,
  latin1,
  name,
  outcome,
  revise,
  stream,
} from './attack-kit.js';
import { minimalPdf, qpdf } from './fixtures.js';

// Shadow attacks (Mainka, Mladenov, Rohlmann, NDSS 2021): the signer is shown a document whose signed
// bytes already hold content that is hidden, and a later incremental update reveals or swaps it. Each
// case here must make the first signature invalid with changes-not-allowed.

type Sign = (pdf: Uint8Array, extra?: Partial<SignPdfOptions>) => Promise<Uint8Array>;

const COVER = '1 1 1 rg 60 680 400 80 re f\n';
const HIDDEN = 'BT /F1 24 Tf 72 720 Td (Thanh toan 10.000.000 VND) Tj ET\n';

/** Appends a revision that is only a cross-reference table: old numbers pointed elsewhere, or freed. */
function xrefOnly(pdf: Uint8Array, entries: [number, number | 'free'][], root?: PdfRef): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const r = root ?? doc.rootRef();
  let text = 'xref\n0 1\n0000000000 65535 f\r\n';
  for (const [num, at] of entries)
    text +=
      at === 'free'
        ? `${num} 1\n0000000000 00001 f\r\n`
        : `${num} 1\n${String(at).padStart(10, '0')} 00000 n\r\n`;
  const size = Math.max(doc.size, ...entries.map(([num]) => num + 1));
  text += `trailer\n<< /Size ${size} /Root ${r.num} ${r.gen} R /Prev ${doc.startxref} >>\nstartxref\n${pdf.length}\n%%EOF\n`;
  return join(pdf, bytes(text));
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([a, b]));
}

/** A second definition of an object number placed after the file's end, outside any cross-reference. */
function shadowObject(pdf: Uint8Array, num: number, body: string): { pdf: Uint8Array; offset: number } {
  const offset = pdf.length;
  return { pdf: join(pdf, bytes(`${num} 0 obj\n${body}\nendobj\n`)), offset };
}

const streamBody = (text: string) => `<< /Length ${text.length} >>\nstream\n${text}endstream`;

describe('shadow attacks: every case is flagged', () => {
  let sign: Sign;
  /** Page 1 drawn as [text, white cover]: the signer sees the cover, not the text beneath. */
  let covered: Uint8Array;
  let coverRef: PdfRef;
  let contentRef: PdfRef;

  beforeAll(async () => {
    ({ sign } = await attackSigner());
    covered = revise(minimalPdf({ pages: 2 }), (doc, update) => {
      const page = doc.pages()[0];
      contentRef = page.dict.get('Contents') as PdfRef;
      const hidden = update.newRef();
      update.set(hidden, stream(HIDDEN));
      coverRef = update.newRef();
      update.set(coverRef, stream(COVER));
      update.set(page.ref, page.dict.copy().set('Contents', [contentRef, hidden, coverRef]));
    });
  });

  const expectFlagged = async (pdf: Uint8Array, phrase: string, i = 0) => {
    const r = await verifyPdf(pdf);
    expect(r.verdict).toBe('invalid');
    expect(outcome(r, i)).toMatchObject({ verdict: 'invalid', status: 'disallowed' });
    expect(outcome(r, i).reasons).toContain('changes-not-allowed');
    expect(disallowed(r, i).join('\n')).toContain(phrase);
    return r;
  };

  describe('hide', () => {
    it('the cover stream redefined as empty in a later revision', async () => {
      const signed = await sign(covered);
      const pdf = revise(signed, (_, update) => update.set(coverRef, stream('')));
      await expectFlagged(pdf, `object ${coverRef.num} (a stream) of the signed revision was changed`);
    });

    it('the cover dropped from the page’s /Contents array', async () => {
      const signed = await sign(covered);
      const pdf = revise(signed, (doc, update) => {
        const page = doc.pages()[0];
        const items = doc.resolve(page.dict.get('Contents')) as PdfRef[];
        update.set(page.ref, page.dict.copy().set('Contents', items.slice(0, 2)));
      });
      await expectFlagged(pdf, 'page 1 changed (/Contents)');
    });

    it('a covering Square annotation removed from the page', async () => {
      const withSquare = addAnnotation(minimalPdf({ pages: 1 }), 0, (_, u) =>
        annotation(u, 'Square', [60, 680, 460, 760], ''),
      );
      const signed = await sign(withSquare);
      const pdf = revise(signed, (doc, update) => {
        const page = doc.pages()[0];
        const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
        const square = annots.find((a) => (doc.object(a) as PdfDict).get('FT') === undefined)!;
        update.set(
          page.ref,
          page.dict.copy().set(
            'Annots',
            annots.filter((a) => a !== square),
          ),
        );
      });
      await expectFlagged(pdf, 'Square annotation was removed from page 1');
    });

    it('the cover freed by a cross-reference-only update', async () => {
      const signed = await sign(covered);
      await expectFlagged(
        xrefOnly(signed, [[coverRef.num, 'free']]),
        `object ${coverRef.num} of the signed revision was freed`,
      );
    });
  });

  describe('replace', () => {
    it('the font redefined with another encoding', async () => {
      const signed = await sign(minimalPdf({ pages: 1 }));
      const font = new PdfRef(3, 0);
      const pdf = revise(signed, (_, update) =>
        update.set(
          font,
          dict({
            Type: name('Font'),
            Subtype: name('Type1'),
            BaseFont: name('Helvetica'),
            Encoding: dict({ Type: name('Encoding'), Differences: [65, name('B'), name('A')] }),
          }),
        ),
      );
      await expectFlagged(pdf, 'object 3 (/Font) of the signed revision was changed');
    });

    it('the page’s font resource pointed to a new font', async () => {
      const signed = await sign(minimalPdf({ pages: 1 }));
      const pdf = revise(signed, (doc, update) => {
        const page = doc.pages()[0];
        const font = update.newRef();
        update.set(font, dict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Courier') }));
        update.set(page.ref, page.dict.copy().set('Resources', dict({ Font: dict({ F1: font }) })));
      });
      await expectFlagged(pdf, 'page 1 changed (/Resources)');
    });

    it('a page’s content replaced under the same object number', async () => {
      const signed = await sign(covered);
      const pdf = revise(signed, (_, update) => update.set(contentRef, stream(HIDDEN)));
      await expectFlagged(pdf, `object ${contentRef.num} (a stream) of the signed revision was changed`);
    });

    it('an /OpenAction added to the catalog', async () => {
      const signed = await sign(minimalPdf({ pages: 1 }));
      const pdf = revise(signed, (doc, update) => {
        const js = dict({ S: name('JavaScript'), JS: encodeText('app.alert(1)') });
        update.set(doc.rootRef(), doc.catalog().copy().set('OpenAction', js));
      });
      await expectFlagged(pdf, 'the catalog’s /OpenAction changed');
    });

    it('a new page appended', async () => {
      const signed = await sign(minimalPdf({ pages: 1 }));
      const pdf = revise(signed, (doc, update) => {
        const tree = doc.catalog().get('Pages') as PdfRef;
        const pages = doc.object(tree) as PdfDict;
        const page = update.newRef();
        update.set(page, dict({ Type: name('Page'), Parent: tree }));
        update.set(
          tree,
          pages
            .copy()
            .set('Kids', [...(pages.get('Kids') as PdfRef[]), page])
            .set('Count', 2),
        );
      });
      await expectFlagged(pdf, 'the pages changed');
    });
  });

  describe('hide and replace', () => {
    it('content already in the signed revision, unreferenced, then made the page’s content', async () => {
      const staged = revise(minimalPdf({ pages: 1 }), (_, update) => {
        update.set(update.newRef(), stream(HIDDEN));
      });
      const shadow = PdfDocument.open(staged).size - 1;
      const signed = await sign(staged);
      const pdf = revise(signed, (doc, update) => {
        const page = doc.pages()[0];
        update.set(page.ref, page.dict.copy().set('Contents', new PdfRef(shadow, 0)));
      });
      await expectFlagged(pdf, 'page 1 changed (/Contents)');
    });

    it('a cross-reference-only update pointing the content’s number at a shadow definition in the signed bytes', async () => {
      const base = minimalPdf({ pages: 1 });
      const content = PdfDocument.open(base).pages()[0].dict.get('Contents') as PdfRef;
      const staged = shadowObject(base, content.num, streamBody(HIDDEN));
      // An empty update after it, so that the shadow lies inside the signed revision, not after the last.
      const signed = await sign(xrefOnly(staged.pdf, []));
      const pdf = xrefOnly(signed, [[content.num, staged.offset]]);
      expect(latin1(pdf).slice(signed.length)).not.toContain(' obj');
      await expectFlagged(pdf, `object ${content.num} (a stream) of the signed revision was changed`);
    });

    it('a FreeText annotation hidden in the signed revision, later listed in /Annots', async () => {
      let note!: PdfRef;
      const staged = revise(minimalPdf({ pages: 1 }), (_, update) => {
        note = annotation(update, 'FreeText', [60, 680, 460, 760], 'Da thanh toan');
      });
      const signed = await sign(staged);
      const pdf = revise(signed, (doc, update) => {
        const page = doc.pages()[0];
        const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
        update.set(page.ref, page.dict.copy().set('Annots', [...annots, note]));
      });
      await expectFlagged(pdf, 'an object hidden in the signed revision');
    });

    it('a second page tree in the signed bytes, made the document’s by a new catalog and /Root', async () => {
      let evilPages!: PdfRef;
      const staged = revise(minimalPdf({ pages: 1 }), (_, update) => {
        const content = update.newRef();
        update.set(content, stream(HIDDEN));
        evilPages = update.newRef();
        const page = update.newRef();
        update.set(
          evilPages,
          dict({ Type: name('Pages'), Kids: [page], Count: 1, MediaBox: [0, 0, 595, 842] }),
        );
        update.set(page, dict({ Type: name('Page'), Parent: evilPages, Contents: content }));
      });
      const signed = await sign(staged);
      const doc = PdfDocument.open(signed);
      const form = doc.catalog().get('AcroForm') as PdfRef;
      const catalog = new PdfRef(doc.size, 0);
      const withCatalog = shadowObject(
        signed,
        catalog.num,
        `<< /Type /Catalog /Pages ${evilPages.num} 0 R /AcroForm ${form.num} 0 R >>`,
      );
      const pdf = xrefOnly(withCatalog.pdf, [[catalog.num, withCatalog.offset]], catalog);
      await expectFlagged(pdf, 'the document catalog was replaced');
    });

    it('the signature’s own dictionary redefined in a later revision', async () => {
      const signed = await sign(minimalPdf({ pages: 1 }));
      const twice = await sign(signed);
      const doc = PdfDocument.open(twice);
      const first = doc.signatureFields()[0];
      const pdf = revise(twice, (_, update) =>
        update.set(first.ref, first.dict.copy().set('TU', encodeText('renamed'))),
      );
      await expectFlagged(pdf, 'the signed field Signature1 was redefined');
      // The later signature is judged by the same rules: its field is as much the signed revision's.
      await expectFlagged(pdf, 'the signed field Signature1 was redefined', 1);
    });
  });
});

describeWith(
  toolMissing('qpdf'),
  'difference analysis on cross-reference streams and linearized files',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let sign: Sign;
    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-shadow-');
      ({ sign } = await attackSigner());
    });

    it.each(['xref-stream', 'linearized'] as const)(
      '%s: two signatures allowed, a replaced page content flagged',
      async (layout) => {
        const args = layout === 'xref-stream' ? ['--object-streams=generate'] : ['--linearize'];
        const base = qpdf(tmp.dir, minimalPdf({ pages: 2 }), args, layout);
        const twice = await sign(await sign(base));
        const r = await verifyPdf(twice);
        expect(r.signatures.map((s) => s.modifications.status)).toEqual(['allowed', 'none']);
        const doc = PdfDocument.open(twice);
        const content = doc.pages()[1].dict.get('Contents') as PdfRef;
        const replaced = revise(twice, (_, update) => update.set(content, stream(HIDDEN)));
        const bad = await verifyPdf(replaced);
        expect(bad.signatures.map((s) => s.modifications.status)).toEqual(['disallowed', 'disallowed']);
        expect(bad.verdict).toBe('invalid');
      },
    );
  },
);

describe('shadow attacks through objects with two roles', () => {
  let sign: Sign;
  beforeAll(async () => {
    ({ sign } = await attackSigner());
  });

  it('an XObject the page draws that is also a text field’s appearance, changed as if filling the form', async () => {
    let xobject!: PdfRef;
    const staged = revise(minimalPdf({ pages: 1 }), (doc, update) => {
      const page = doc.pages()[0];
      xobject = update.newRef();
      update.set(
        xobject,
        stream(
          'BT /F1 12 Tf 0 6 Td (1.000 VND) Tj ET',
          dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 20] }),
        ),
      );
      const draw = update.newRef();
      update.set(draw, stream('q 1 0 0 1 72 500 cm /X0 Do Q'));
      const font = (
        doc.resolve((doc.resolve(page.dict.get('Resources')) as PdfDict).get('Font')) as PdfDict
      ).get('F1');
      const field = update.newRef();
      update.set(
        field,
        dict({
          FT: name('Tx'),
          T: encodeText('So tien'),
          Type: name('Annot'),
          Subtype: name('Widget'),
          Rect: [72, 300, 272, 320],
          P: page.ref,
          AP: dict({ N: xobject }),
        }),
      );
      update.set(
        page.ref,
        page.dict
          .copy()
          .set('Resources', dict({ Font: dict({ F1: font }), XObject: dict({ X0: xobject }) }))
          .set('Contents', [page.dict.get('Contents') as PdfRef, draw])
          .set('Annots', [field]),
      );
      const form = update.newRef();
      update.set(form, dict({ Fields: [field] }));
      update.set(doc.rootRef(), doc.catalog().copy().set('AcroForm', form));
    });
    const signed = await sign(staged);
    const pdf = revise(signed, (_, update) =>
      update.set(
        xobject,
        stream(
          'BT /F1 12 Tf 0 6 Td (9.000.000 VND) Tj ET',
          dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 20] }),
        ),
      ),
    );
    const r = await verifyPdf(pdf);
    expect(outcome(r)).toMatchObject({ verdict: 'invalid', status: 'disallowed' });
    expect(disallowed(r).join('\n')).toContain(
      `object ${xobject.num} (stream /XObject) of the signed revision was changed`,
    );
  });
});

describe('what the analysis cannot read', () => {
  it('a later revision whose page tree cannot be read makes the signature invalid, and the report says so', async () => {
    const { sign } = await attackSigner();
    const signed = await sign(minimalPdf({ pages: 1 }));
    const pdf = revise(signed, (doc, update) =>
      update.set(doc.catalog().get('Pages') as PdfRef, name('broken')),
    );
    const r = await verifyPdf(pdf);
    expect(outcome(r)).toMatchObject({ verdict: 'invalid', status: 'unreadable' });
    expect(outcome(r).reasons).toContain('changes-unreadable');
    const text = renderReport('x.pdf', r, 'vi');
    expect(text).toContain('Các thay đổi sau khi ký: không đọc được');
    expect(text).toContain('không đọc được các thay đổi sau khi ký');
  });
});
