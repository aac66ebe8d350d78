import { beforeAll, describe, expect, it } from 'vitest';
import {
  PdfDocument,
  type PdfRef,
  type SignPdfOptions,
  type VerificationReport,
} from '../../src/pdf/index.js';
import {
  appendRaw,
  bytes,
  dict,
  disallowed,
  encodeText,
  latin1,
  name,
  revise,
  trustedSigner,
} from './attack-kit.js';
import { minimalPdf } from './fixtures.js';

// No false alarms (issue 8 §2): the rules that catch the attacks must keep real files from other tools
// valid — offsets that are off by a few white-space bytes, and later writers that raise the PDF version
// or declare developer extensions (pyHanko writes /Version /2.0 when it signs).

const summary = (r: VerificationReport) =>
  r.signatures.map((s) => [s.verdict, s.reasons, s.modifications.status]);

describe('cross-reference offsets off by a few white-space bytes', () => {
  let signer: Awaited<ReturnType<typeof trustedSigner>>;
  beforeAll(async () => {
    signer = await trustedSigner();
  });

  /** The file's startxref pointed at the line end before its `xref` keyword, as some tools write it. */
  function offByOne(pdf: Uint8Array): Uint8Array {
    const text = latin1(pdf);
    const at = text.lastIndexOf('startxref');
    const offset = Number(/startxref\s+(\d+)/.exec(text.slice(at))![1]);
    expect(text.slice(offset - 1, offset + 4)).toBe('\nxref');
    return bytes(`${text.slice(0, at)}startxref\n${offset - 1}\n%%EOF\n`);
  }

  it('a first revision whose startxref is one byte early: read, signed twice, both valid', async () => {
    const base = offByOne(minimalPdf({ pages: 1 }));
    expect(PdfDocument.open(base).pages()).toHaveLength(1);
    const once = await signer.sign(base);
    const twice = await signer.sign(once);
    const r = await signer.verify(twice);
    expect(summary(r)).toEqual([
      ['valid', [], 'allowed'],
      ['valid', [], 'none'],
    ]);
    // The tolerance moves no revision boundary: each signature still ends where its revision does.
    expect(r.signatures.map((s) => [s.revision, s.signedBytes])).toEqual([
      [2, once.length],
      [3, twice.length],
    ]);
  });

  it('a later update whose /Prev points at the line end before the signed revision’s xref: still valid', async () => {
    const signed = await signer.sign(minimalPdf({ pages: 1 }));
    const prev = PdfDocument.open(signed).startxref;
    const r = await signer.verify(appendRaw(signed, [], [], prev - 1));
    expect(summary(r)).toEqual([['valid', [], 'allowed']]);
    expect(r.signatures[0].signedBytes).toBe(signed.length);
    expect(r.revisions).toBe(3);
  });
});

describe('a later writer raising /Version or declaring developer extensions', () => {
  let signer: Awaited<ReturnType<typeof trustedSigner>>;
  beforeAll(async () => {
    signer = await trustedSigner();
  });

  /** What pyHanko writes when it signs: /Version /2.0 and its ISO 32001 and ESIC extensions. */
  const asPyHanko = (pdf: Uint8Array, version = '2.0') =>
    revise(pdf, (doc, update) => {
      const iso: PdfRef = update.newRef();
      update.set(
        iso,
        dict({
          Type: name('DeveloperExtensions'),
          BaseVersion: name('2.0'),
          ExtensionLevel: 32001,
          ExtensionRevision: encodeText(':2022'),
          URL: encodeText('https://www.iso.org/standard/45874.html'),
        }),
      );
      const extensions = dict({
        ISO_: [iso],
        ESIC: dict({ Type: name('DeveloperExtensions'), BaseVersion: name('1.7'), ExtensionLevel: 1 }),
      });
      update.set(
        doc.rootRef(),
        doc.catalog().copy().set('Version', name(version)).set('Extensions', extensions),
      );
    });

  it.each<[string, Partial<SignPdfOptions>]>([
    ['no DocMDP', {}],
    ['P1', { certify: 1 }],
    ['P2', { certify: 2 }],
    ['P3', { certify: 3 }],
  ])('%s: allowed, the earlier signature stays valid', async (_, options) => {
    const signed = await signer.sign(minimalPdf({ pages: 1 }), options);
    const r = await signer.verify(asPyHanko(signed));
    expect(summary(r)).toEqual([['valid', [], 'allowed']]);
    expect(r.signatures[0].modifications.changes?.map((c) => [c.kind, c.description])).toEqual([
      ['extensions', 'the PDF version was raised to 2.0'],
      ['extensions', 'developer extensions updated'],
    ]);
  });

  it('a later signature after pyHanko’s changes: both valid', async () => {
    const r = await signer.verify(await signer.sign(asPyHanko(await signer.sign(minimalPdf({ pages: 1 })))));
    expect(summary(r)).toEqual([
      ['valid', [], 'allowed'],
      ['valid', [], 'none'],
    ]);
  });

  it('but a lowered or unknown /Version, or extensions holding anything else, stay disallowed', async () => {
    const signed = await signer.sign(minimalPdf({ pages: 1 }));
    for (const version of ['1.4', '9.9']) {
      const r = await signer.verify(asPyHanko(signed, version));
      expect(r.signatures[0].reasons).toEqual(['changes-not-allowed']);
      expect(disallowed(r)).toEqual(['the catalog’s /Version changed']);
    }
    const odd = revise(signed, (doc, update) =>
      update.set(
        doc.rootRef(),
        doc
          .catalog()
          .copy()
          .set('Extensions', dict({ ADBE: dict({ BaseVersion: name('1.7'), JS: encodeText('x') }) })),
      ),
    );
    expect(disallowed(await signer.verify(odd))).toEqual(['the catalog’s /Extensions changed']);
  });
});
