import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  completeSignature,
  PdfDocument,
  PdfError,
  padesCms,
  padesSignedAttributes,
  prepareSignature,
  SIGNATURE_TIME_STAMP_OID,
  signPdf,
  verifyPdf,
} from '../../src/pdf/index.js';
import {
  hashOf,
  parseSignedData,
  parseTimeStampToken,
  type SignatureAlgorithm,
} from '../../src/pki/index.js';
import { describeWith, tempDir, toolMissing } from '../support/env.js';
import { minimalPdf, variants } from './fixtures.js';
import { makeKey, makePki, rawSign, signerOf, type TestKey, type TestPki } from './pki.js';
import {
  opensslCmsVerify,
  opensslTsVerify,
  pdfsig,
  pdfsigRanges,
  qpdfCheck,
  rawSignatures,
} from './tools.js';

const ALGORITHMS: [SignatureAlgorithm, 'ec' | 'rsa'][] = [
  ['ECDSA-SHA256', 'ec'],
  ['RSA-PSS-SHA256', 'rsa'],
  ['RSA-PKCS1-SHA256', 'rsa'],
];

describeWith(
  toolMissing('pdfsig', 'qpdf', 'openssl'),
  'PAdES signing, checked by qpdf, pdfsig and openssl',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let pki: TestPki;
    let pems: ReturnType<TestPki['writePems']>;
    const keys: Record<'ec' | 'rsa', { key: TestKey; cert: Uint8Array }> = {} as never;
    let layouts: ReturnType<typeof variants>;

    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-sign-');
      pki = await makePki();
      pems = pki.writePems(tmp.dir);
      for (const kind of ['ec', 'rsa'] as const) {
        const key = makeKey(kind);
        keys[kind] = { key, cert: await pki.leaf(key, kind === 'ec' ? 'Nguyễn Văn An' : 'Trần Thị Bình') };
      }
      layouts = variants(tmp.dir, minimalPdf({ pages: 3 }));
    });
    afterAll(() => tmp.remove());

    const signOnce = (pdf: Uint8Array, alg: SignatureAlgorithm, kind: 'ec' | 'rsa', extra = {}) =>
      signPdf(pdf, {
        signer: signerOf(keys[kind].key, alg),
        certificate: keys[kind].cert,
        chain: [pki.issuing],
        reason: 'Phê duyệt văn bản',
        location: 'Hà Nội',
        ...extra,
      });

    /** Every check the issue asks of a signed file, for its newest signature and all earlier ones. */
    async function expectAllAccept(before: Uint8Array, signed: Uint8Array, label: string, count: number) {
      expect(
        Buffer.compare(signed.subarray(0, before.length), before),
        `${label}: earlier bytes changed`,
      ).toBe(0);
      const q = qpdfCheck(tmp.dir, signed, label);
      expect(q.ok, q.output).toBe(true);
      const raw = rawSignatures(signed);
      expect(raw).toHaveLength(count);
      const ps = pdfsig(tmp.dir, signed, label);
      expect(ps.signatures, ps.output).toHaveLength(count);
      ps.signatures.forEach((s, i) => {
        expect(s.validation, ps.output).toBe('Signature is Valid.');
        expect(s.ranges).toBe(pdfsigRanges(raw[i].byteRange));
        expect(s.total).toBe(i === count - 1);
        expect(s.type).toBe('ETSI.CAdES.detached');
      });
      raw.forEach((sig, i) => {
        const o = opensslCmsVerify(tmp.dir, sig, pems, `${label}-${i}`);
        expect(o.ok, o.output).toBe(true);
      });
      const report = await verifyPdf(signed);
      expect(report.signatures).toHaveLength(count);
      report.signatures.forEach((s, i) => {
        expect(s.integrity, JSON.stringify(s.details)).toEqual({
          byteRange: 'passed',
          digest: 'passed',
          signature: 'passed',
        });
        expect(s.coversWholeFile).toBe(i === count - 1);
        expect(s.reasons).not.toContainEqual(expect.stringMatching(/invalid|mismatch|malformed|gap|outside/));
        expect(s.verdict).toBe('indeterminate');
      });
    }

    for (const [alg, kind] of ALGORITHMS) {
      for (const layout of ['classic', 'xref-stream', 'linearized'] as const) {
        it(`signs a ${layout} PDF with ${alg}`, async () => {
          const before = layouts[layout];
          const signed = await signOnce(before, alg, kind);
          await expectAllAccept(before, signed, `${layout}-${alg}`, 1);
          const doc = PdfDocument.open(signed);
          expect(doc.xrefKind).toBe(layout === 'xref-stream' ? 'stream' : 'table');
          const [field] = doc.signatureFields();
          expect(field).toMatchObject({ name: 'Signature1', type: 'Sig' });
          expect(field.signature).toMatchObject({
            subFilter: 'ETSI.CAdES.detached',
            reason: 'Phê duyệt văn bản',
            location: 'Hà Nội',
          });
          expect(doc.pages()[0].dict.get('Annots')).toEqual([field.ref]);
          expect(doc.get(doc.acroForm()!.dict, 'SigFlags')).toBe(3);
          // The CMS: signed attributes content-type, message-digest, signing-certificate-v2, no signing-time.
          const cms = parseSignedData(rawSignatures(signed)[0].cms);
          expect([...cms.signers[0].attributes.keys()].sort()).toEqual(
            ['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47'].sort(),
          );
          expect(cms.certificates).toHaveLength(2);
        });
      }
    }

    for (const layout of ['classic', 'xref-stream'] as const) {
      it(`keeps ten signatures in a row valid on a ${layout} PDF`, async () => {
        let pdf = layouts[layout];
        for (let i = 1; i <= 10; i++) {
          const before = pdf;
          const [alg, kind] = ALGORITHMS[i % ALGORITHMS.length];
          pdf = await signOnce(before, alg, kind, { name: `Người ký ${i}` });
          expect(Buffer.compare(pdf.subarray(0, before.length), before)).toBe(0);
        }
        await expectAllAccept(layouts[layout], pdf, `ten-${layout}`, 10);
        const doc = PdfDocument.open(pdf);
        expect(doc.signatureFields().map((f) => f.name)).toEqual(
          Array.from({ length: 10 }, (_, i) => `Signature${i + 1}`),
        );
        expect(doc.revisions()).toHaveLength(11);
        const report = await verifyPdf(pdf);
        expect(report.signatures.map((s) => s.revision)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      });
    }

    it('adds the signature to an existing AcroForm and keeps its fields', async () => {
      const before = minimalPdf({ pages: 2, textField: true });
      const signed = await signOnce(before, 'ECDSA-SHA256', 'ec', { page: 2, fieldName: 'Lãnh đạo' });
      await expectAllAccept(before, signed, 'acroform', 1);
      const doc = PdfDocument.open(signed);
      expect(doc.fields().map((f) => [f.name, f.type])).toEqual([
        ['Ho ten', 'Tx'],
        ['Lãnh đạo', 'Sig'],
      ]);
      expect(doc.pages()[1].dict.get('Annots')).toEqual([doc.signatureFields()[0].ref]);
    });

    it('signs deferred: prepare, sign the attributes elsewhere, complete — the same bytes as one call', async () => {
      const { key, cert } = keys.rsa;
      // RSA PKCS#1 v1.5 is deterministic, so the two paths must agree byte for byte.
      const alg: SignatureAlgorithm = 'RSA-PKCS1-SHA256';
      const signingTime = new Date('2026-03-04T05:06:07Z');
      const pdf = layouts['xref-stream'];
      const prepared = prepareSignature(pdf, { signingTime, contentsSize: 8192 });
      expect(prepared.fieldName).toBe('Signature1');
      const digest = prepared.digest(hashOf(alg));
      const input = { digest, certificate: cert, chain: [pki.issuing], algorithm: alg };
      const attributes = await padesSignedAttributes(input);
      expect(await padesSignedAttributes(input)).toEqual(attributes);
      // "Elsewhere": only the attributes leave, the signature value comes back.
      const signatureValue = rawSign(key.privateKey, alg, attributes);
      const cms = await padesCms({ ...input, signatureValue });
      const deferred = completeSignature(prepared.prepared, cms);
      await expectAllAccept(pdf, deferred, 'deferred', 1);
      const oneCall = await signPdf(pdf, {
        signer: signerOf(key, alg),
        certificate: cert,
        chain: [pki.issuing],
        signingTime,
        contentsSize: 8192,
      });
      expect(Buffer.compare(oneCall, deferred)).toBe(0);
      // The prepared file is left as it was, so a failed step two can be retried.
      expect(rawSignatures(prepared.prepared)[0].cms.every((b) => b === 0)).toBe(true);
    });

    it('refuses a signature value that does not verify, a CMS too large, and a second completion', async () => {
      const { key, cert } = keys.ec;
      const prepared = prepareSignature(layouts.classic, { contentsSize: 1024 });
      const input = {
        digest: prepared.digest('sha256'),
        certificate: cert,
        chain: [pki.issuing, pki.root],
        algorithm: 'ECDSA-SHA256' as const,
      };
      const wrong = rawSign(key.privateKey, 'ECDSA-SHA256', new Uint8Array(8));
      await expect(padesCms({ ...input, signatureValue: wrong })).rejects.toMatchObject({
        code: 'bad-signature-value',
      });
      const value = rawSign(key.privateKey, 'ECDSA-SHA256', await padesSignedAttributes(input));
      const big = await padesCms({ ...input, signatureValue: value });
      expect(() => completeSignature(prepared.prepared, big)).toThrow(PdfError);
      expect(() => completeSignature(prepared.prepared, big)).toThrow('only 1024 are reserved');
      const roomy = prepareSignature(layouts.classic);
      const digest = roomy.digest('sha256');
      const fits = await padesCms({
        ...input,
        digest,
        signatureValue: rawSign(
          key.privateKey,
          'ECDSA-SHA256',
          await padesSignedAttributes({ ...input, digest }),
        ),
      });
      const done = completeSignature(roomy.prepared, fits);
      expect(() => completeSignature(done, fits)).toThrow('no signature placeholder');
      expect(() => completeSignature(prepared.prepared, new Uint8Array(10))).toThrow('not a CMS');
    });

    it('refuses a certificate that is not the signer key, a taken field name and a page out of range', async () => {
      await expect(
        signPdf(layouts.classic, {
          signer: signerOf(keys.ec.key, 'ECDSA-SHA256'),
          certificate: keys.rsa.cert,
        }),
      ).rejects.toMatchObject({ code: 'certificate-key-mismatch' });
      const once = await signOnce(layouts.classic, 'ECDSA-SHA256', 'ec');
      expect(() => prepareSignature(once, { fieldName: 'Signature1' })).toThrow(
        expect.objectContaining({ code: 'field-exists' }),
      );
      expect(() => prepareSignature(once, { page: 4 })).toThrow('page must be from 1 to 3');
      expect(() => prepareSignature(once, { fieldName: 'a.b' })).toThrow('without "."');
      expect(() => prepareSignature(once, { contentsSize: 10 })).toThrow('contentsSize');
    });

    it('B-T: the time-stamp token over the signature value passes openssl ts -verify and the verifier reports it', async () => {
      const genTime = new Date(Math.floor(Date.now() / 1000) * 1000);
      const before = layouts.linearized;
      const signed = await signOnce(before, 'ECDSA-SHA256', 'ec', { timestamp: pki.timestamp(genTime) });
      await expectAllAccept(before, signed, 'bt', 1);
      const [raw] = rawSignatures(signed);
      const signer = parseSignedData(raw.cms).signers[0];
      const [token] = signer.unsignedAttributes.get(SIGNATURE_TIME_STAMP_OID) ?? [];
      expect(token).toBeDefined();
      expect(parseTimeStampToken(token).genTime).toEqual(genTime);
      const ts = opensslTsVerify(tmp.dir, token, signer.signature, pems, 'bt-token');
      expect(ts.ok, ts.output).toBe(true);
      const report = await verifyPdf(signed);
      const [s] = report.signatures;
      expect(s.timestamp).toMatchObject({ status: 'passed', genTime, chain: 'not-checked' });
      expect(s.timestamp?.tsa?.subject).toContain('CN=Kyso PDF Test TSA');
      expect(s.signingTime).toEqual(genTime);
      expect(s.validAtSigningTime).toBe(true);
      expect(s.reasons).toEqual(['timestamp-chain-not-checked', 'chain-not-checked']);
      const anchored = await verifyPdf(signed, { trustAnchors: [pki.root] });
      expect(anchored.signatures[0].timestamp?.chain).toBe('trusted');
      expect(anchored.signatures[0].reasons).toEqual(['revocation-unknown']);
    });

    it('B-T refuses a time-stamp token over something else', async () => {
      const stampOther = async () => pki.timestamp()(new Uint8Array(32));
      await expect(
        signOnce(layouts.classic, 'ECDSA-SHA256', 'ec', { timestamp: stampOther }),
      ).rejects.toMatchObject({
        code: 'bad-timestamp',
      });
    });
  },
);
