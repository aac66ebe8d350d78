import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PdfDict,
  PdfDocument,
  PdfRef,
  type SignPdfOptions,
  type VerificationReport,
} from '../../src/pdf/index.js';
import { describeWith, run, tempDir, toolMissing } from '../support/env.js';
import { appendRaw, dict, disallowed, revise, stream, streamBody, trustedSigner } from './attack-kit.js';
import { minimalPdf } from './fixtures.js';

// Objects free or missing in the signed revision (issue 8 §2): the signed page already names an object
// number its cross-reference data leaves free or never defines, so viewers show nothing there; a later
// revision defines that number and the page shows new content without a byte of it changing.

type Target = 'annotation' | 'content' | 'xobject' | 'font';
type Hole = { label: string; free: boolean; gen: number };

const TARGETS: Target[] = ['annotation', 'content', 'xobject', 'font'];
const HOLES: Hole[] = [
  { label: 'absent, generation 0', free: false, gen: 0 },
  { label: 'free, generation 0', free: true, gen: 0 },
  { label: 'free, generation 2', free: true, gen: 2 },
];
const POLICIES: [string, Partial<SignPdfOptions>][] = [
  ['no DocMDP', {}],
  ['P1', { certify: 1 }],
  ['P2', { certify: 2 }],
  ['P3', { certify: 3 }],
  ['FieldMDP', { lockFields: 'all' }],
];

const SHOWN = 'Thanh toan 10.000.000 VND';
const TEXT = `BT /F1 24 Tf 72 640 Td (${SHOWN}) Tj ET\n`;

/** The document as signed: page 1 names object `hole` in the way `target` uses it. */
function staged(target: Target, hole: Hole): { pdf: Uint8Array; ref: PdfRef } {
  let ref!: PdfRef;
  const pdf = revise(minimalPdf({ pages: 1 }), (doc, update) => {
    // Far past /Size, so no later writer's new objects take the number by chance.
    ref = new PdfRef(doc.size + 1000, hole.gen);
    const page = doc.pages()[0];
    const contents = page.dict.get('Contents') as PdfRef;
    const resources = doc.resolve(page.dict.get('Resources')) as PdfDict;
    const fonts = doc.resolve(resources.get('Font')) as PdfDict;
    const p = page.dict.copy();
    const drawn = (text: string) => {
      const s = update.newRef();
      update.set(s, stream(text));
      return s;
    };
    if (target === 'annotation') p.set('Annots', [ref]);
    if (target === 'content') p.set('Contents', [contents, ref]);
    if (target === 'xobject') {
      p.set('Contents', [contents, drawn('q 1 0 0 1 72 600 cm /X9 Do Q\n')]);
      p.set('Resources', resources.copy().set('XObject', dict({ X9: ref })));
    }
    if (target === 'font') {
      p.set('Contents', [contents, drawn(TEXT.replace('/F1', '/F9'))]);
      p.set('Resources', resources.copy().set('Font', fonts.copy().set('F9', ref)));
    }
    update.set(page.ref, p);
  });
  return { pdf: hole.free ? appendRaw(pdf, [], [{ num: ref.num, gen: ref.gen }]) : pdf, ref };
}

/** The later revision that defines the object the signed page names. */
function attack(signed: Uint8Array, target: Target, ref: PdfRef): Uint8Array {
  const next = PdfDocument.open(signed).size;
  const font = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  const form = (text: string, w: number, h: number) =>
    streamBody(
      text,
      ` /Type /XObject /Subtype /Form /BBox [0 0 ${w} ${h}] /Resources << /Font << /F1 ${next + 1} 0 R >> >>`,
    );
  const objects = [{ num: next + 1, gen: 0, body: font }];
  const define = (body: string) => objects.push({ num: ref.num, gen: ref.gen, body });
  if (target === 'annotation') {
    objects.push({ num: next, gen: 0, body: form(`BT /F1 24 Tf 4 12 Td (${SHOWN}) Tj ET\n`, 400, 40) });
    define(`<< /Type /Annot /Subtype /FreeText /Rect [60 600 460 640] /F 4 /DA (/F1 24 Tf 0 g) /Contents (${SHOWN}) /AP << /N ${next} 0 R >> >>`);
  }
  if (target === 'content') define(streamBody(TEXT));
  if (target === 'xobject') define(form(`BT /F1 24 Tf 0 10 Td (${SHOWN}) Tj ET\n`, 400, 40));
  if (target === 'font') define(font);
  return appendRaw(signed, objects);
}

const verdicts = (r: VerificationReport) => r.signatures.map((s) => s.verdict);

describe('objects free or missing in the signed revision, defined later', () => {
  let signer: Awaited<ReturnType<typeof trustedSigner>>;
  beforeAll(async () => {
    signer = await trustedSigner();
  });

  for (const target of TARGETS)
    for (const hole of HOLES)
      it.each(POLICIES)(`${target}, ${hole.label}, %s: changes-not-allowed`, async (_, options) => {
        const { pdf, ref } = staged(target, hole);
        const signed = await signer.sign(pdf, options);
        const before = await signer.verify(signed);
        expect(verdicts(before), before.signatures[0].details.join('\n')).toEqual(['valid']);
        // The signed revision names an object it does not define: worth a note, not a failure.
        expect(before.signatures[0].warnings).toContain('references-undefined-objects');

        const r = await signer.verify(attack(signed, target, ref));
        expect(r.verdict).toBe('invalid');
        expect(r.signatures[0].reasons).toContain('changes-not-allowed');
        expect(disallowed(r).join('\n')).toContain(
          `object ${ref.num}, which the signed revision names but does not define, was defined`,
        );
      });

  it('a P1-certified B-LTA file verified offline: valid, and the later definition makes it invalid', async () => {
    const { pdf, ref } = staged('content', HOLES[2]);
    const lta = await signer.extendLta(await signer.sign(pdf, { certify: 1 }));
    const before = await signer.verifyOffline(lta);
    expect(before.signatures.map((s) => [s.kind, s.revocation.status])).toEqual([
      ['signature', 'good'],
      ['document-timestamp', expect.any(String)],
    ]);
    expect(before.signatures[0].verdict, before.signatures[0].details.join('\n')).toBe('valid');
    expect(before.signatures[0].modifications.status).toBe('allowed');
    const r = await signer.verifyOffline(attack(lta, 'content', ref));
    expect(r.signatures.map((s) => s.reasons.includes('changes-not-allowed'))).toEqual([true, true]);
    expect(r.signatures[0].verdict).toBe('invalid');
  });

  it('a signed revision that defines everything it names has no note', async () => {
    const r = await signer.verify(await signer.sign(minimalPdf({ pages: 1 })));
    expect(r.signatures[0].warnings).not.toContain('references-undefined-objects');
  });
});

describeWith(
  toolMissing('pdftotext', 'pdftoppm'),
  'the free-object attacks show new content in a viewer',
  () => {
    let signer: Awaited<ReturnType<typeof trustedSigner>>;
    let tmp: ReturnType<typeof tempDir>;
    beforeAll(async () => {
      signer = await trustedSigner();
      tmp = tempDir('kyso-pdf-free-');
    });
    afterAll(() => tmp.remove());

    const file = (label: string, pdf: Uint8Array) => {
      const p = `${tmp.dir}/${label}.pdf`;
      writeFileSync(p, pdf);
      return p;
    };
    const text = (label: string, pdf: Uint8Array) => run('pdftotext', [file(label, pdf), '-']).stdout;
    const pixels = (label: string, pdf: Uint8Array) => {
      run('pdftoppm', ['-r', '24', '-gray', file(label, pdf), `${tmp.dir}/${label}`]);
      return readFileSync(`${tmp.dir}/${label}-1.pgm`);
    };

    it.each(TARGETS)('%s: poppler shows the text only after the later revision', async (target) => {
      const { pdf, ref } = staged(target, HOLES[2]);
      const signed = await signer.sign(pdf);
      const attacked = attack(signed, target, ref);
      if (target === 'annotation')
        expect(
          Buffer.compare(pixels(`${target}-signed`, signed), pixels(`${target}-attacked`, attacked)),
        ).not.toBe(0);
      else {
        expect(text(`${target}-signed`, signed)).not.toContain(SHOWN);
        expect(text(`${target}-attacked`, attacked)).toContain(SHOWN);
      }
    });
  },
);
