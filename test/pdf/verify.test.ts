import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeSignature,
  IncrementalUpdate,
  PdfDict,
  PdfDocument,
  PdfStream,
  prepareSignature,
  renderReport,
  reportContent,
  signPdf,
  timeStampPdf,
  type VerificationReport,
  verifyPdf,
} from '../../src/pdf/index.js';
import {
  buildCertificate,
  buildSignedData,
  buildTimeStampToken,
  CMS_OID,
  ext,
  OID,
  parseCertificate,
  parseName,
  randomSerial,
  signingCertificateV2,
} from '../../src/pki/index.js';
import { describeWith, tempDir, toolMissing } from '../support/env.js';
import { signFunction } from '../support/keys.js';
import { minimalPdf, qpdf, variants } from './fixtures.js';
import { makeKey, makePki, rawSign, signerOf, type TestKey, type TestPki } from './pki.js';
import { opensslTsVerify, pdfsig, qpdfCheck, rawSignatures } from './tools.js';

const DAY = 86_400_000;
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Replaces the last occurrence of `from` with `to` of the same length, so no offset moves. */
function replaceLast(pdf: Uint8Array, from: string, to: string): Uint8Array {
  if (from.length !== to.length) throw new Error('replacement must keep the length');
  const text = latin1(pdf);
  const at = text.lastIndexOf(from);
  if (at < 0) throw new Error(`${from} not found`);
  return bytes(text.slice(0, at) + to + text.slice(at + from.length));
}

/** Rewrites the n-th /ByteRange array's contents in place, padded with spaces to the same width. */
function patchByteRange(pdf: Uint8Array, n: number, values: string): Uint8Array {
  const text = latin1(pdf);
  let at = -1;
  for (let i = 0; i <= n; i++) at = text.indexOf('/ByteRange [', at + 1);
  const open = at + '/ByteRange ['.length;
  const close = text.indexOf(']', open);
  if (values.length > close - open) throw new Error('new ByteRange does not fit');
  return bytes(text.slice(0, open) + values.padEnd(close - open) + text.slice(close));
}

const reasonsOf = (r: VerificationReport, i = 0) => r.signatures[i]?.reasons ?? [];

describeWith(toolMissing('pdfsig', 'qpdf', 'openssl'), 'verifyPdf', () => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: TestPki;
  let key: TestKey;
  let cert: Uint8Array;
  let base: Uint8Array;
  let signed: Uint8Array;
  let twice: Uint8Array;
  // Whole seconds, an hour ago: inside the leaf's validity, as /M keeps no fractions.
  const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);

  const sign = (pdf: Uint8Array, extra: Partial<Parameters<typeof signPdf>[1]> = {}) =>
    signPdf(pdf, {
      signer: signerOf(key, 'ECDSA-SHA256'),
      certificate: cert,
      chain: [pki.issuing],
      signingTime,
      name: 'Nguyễn Văn An',
      reason: 'Phê duyệt',
      ...extra,
    });

  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-verify-');
    pki = await makePki();
    key = makeKey('ec');
    cert = await pki.leaf(key, 'Nguyễn Văn An');
    base = minimalPdf({ pages: 2 });
    signed = await sign(base);
    twice = await sign(signed);
  });
  afterAll(() => tmp.remove());

  describe('reports', () => {
    it('a B-B signature: integrity, signer, claimed time, coverage, and what is not checked yet', async () => {
      const r = await verifyPdf(signed);
      expect(r).toMatchObject({ verdict: 'indeterminate', reasons: [], revisions: 2, unsignedFields: [] });
      const [s] = r.signatures;
      expect(s).toMatchObject({
        field: 'Signature1',
        kind: 'signature',
        verdict: 'indeterminate',
        reasons: ['chain-not-checked'],
        warnings: [],
        subFilter: 'ETSI.CAdES.detached',
        coversWholeFile: true,
        revision: 2,
        signedBytes: signed.length,
        integrity: { byteRange: 'passed', digest: 'passed', signature: 'passed' },
        digestAlgorithm: 'sha256',
        validAtSigningTime: true,
        claimedSigningTime: signingTime,
        chain: { status: 'not-checked' },
        revocation: { status: 'not-checked' },
        modifications: { status: 'none', revisionsAfter: 0 },
        name: 'Nguyễn Văn An',
        reason: 'Phê duyệt',
      });
      expect(s.signingTime).toBeUndefined();
      expect(s.signer?.subject).toBe(
        'C=VN, L=Hà Nội, O=UBND tỉnh Thử nghiệm, OU=Văn phòng, CN=Nguyễn Văn An',
      );
      expect(s.signer?.issuer).toContain('CN=Kyso PDF Test Issuing CA');
      expect(s.signer?.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value)).toEqual([
        'Văn phòng',
      ]);
      expect(s.byteRange).toEqual(rawSignatures(signed)[0].byteRange);
      const claimedEarly = await verifyPdf(
        await sign(base, { signingTime: new Date('2020-01-01T00:00:00Z') }),
      );
      expect(claimedEarly.signatures[0].warnings).toEqual(['claimed-time-outside-certificate-validity']);
    });

    it('with trust anchors: a trusted chain leaves only revocation; a foreign root is chain-untrusted', async () => {
      const trusted = await verifyPdf(signed, { trustAnchors: [pki.root] });
      // The test hierarchy names no OCSP responder or CRL: the status cannot be determined.
      expect(reasonsOf(trusted)).toEqual(['revocation-unknown']);
      expect(trusted.signatures[0].chain.status).toBe('trusted');
      expect(trusted.signatures[0].chain.path).toHaveLength(3);
      const other = await makePki();
      const foreign = await verifyPdf(signed, { trustAnchors: [other.root] });
      expect(reasonsOf(foreign)).toEqual(['chain-untrusted']);
      expect(foreign.signatures[0].verdict).toBe('indeterminate');
      // Without the issuing CA in the CMS, it can come from the options.
      const bare = await sign(base, { chain: [] });
      expect((await verifyPdf(bare, { trustAnchors: [pki.root] })).signatures[0].chain.status).toBe(
        'untrusted',
      );
      const given = await verifyPdf(bare, { trustAnchors: [pki.root], certificates: [pki.issuing] });
      expect(given.signatures[0].chain.status).toBe('trusted');
    });

    it('an earlier signature of a signed-twice file as not covering the whole file', async () => {
      const r = await verifyPdf(twice);
      expect(
        r.signatures.map((s) => [s.field, s.revision, s.coversWholeFile, s.modifications.revisionsAfter]),
      ).toEqual([
        ['Signature1', 2, false, 1],
        ['Signature2', 3, true, 0],
      ]);
      expect(reasonsOf(r, 0)).toEqual(['chain-not-checked']);
      expect(r.signatures[0].modifications).toMatchObject({ status: 'allowed', revisionsAfter: 1 });
      expect(r.signatures[0].modifications.changes?.map((c) => [c.kind, c.allowed])).toEqual([
        ['signature-added', true],
      ]);
      expect(r.signatures[0].integrity.digest).toBe('passed');
    });

    it('a document time-stamp (ETSI.RFC3161) that openssl ts -verify accepts', async () => {
      const genTime = new Date(Math.floor(Date.now() / 1000) * 1000);
      const stamped = await timeStampPdf(signed, { stamp: (digest) => pki.tokenFor(digest, genTime) });
      expect(qpdfCheck(tmp.dir, stamped, 'doc-ts').ok).toBe(true);
      const [, raw] = rawSignatures(stamped);
      const pems = pki.writePems(tmp.dir);
      const ts = opensslTsVerify(tmp.dir, raw.cms, raw.signed, pems, 'doc-ts');
      expect(ts.ok, ts.output).toBe(true);
      const r = await verifyPdf(stamped, { trustAnchors: [pki.root] });
      const doc = r.signatures[1];
      expect(doc).toMatchObject({
        kind: 'document-timestamp',
        subFilter: 'ETSI.RFC3161',
        coversWholeFile: true,
        integrity: { byteRange: 'passed', digest: 'passed', signature: 'passed' },
        signingTime: genTime,
        chain: { status: 'trusted' },
        reasons: [],
        warnings: ['timestamp-revocation-unknown'],
      });
      expect(doc.signer?.subject).toContain('CN=Kyso PDF Test TSA');
      expect(r.signatures[0].modifications.revisionsAfter).toBe(1);
      await expect(
        timeStampPdf(signed, { stamp: () => pki.tokenFor(new Uint8Array(32)) }),
      ).rejects.toMatchObject({
        code: 'bad-timestamp',
      });
    });

    it('an expired certificate: indeterminate without a time-stamp, valid at signing time with one inside the validity', async () => {
      const old = makeKey('ec');
      const expiredCert = await pki.leaf(old, 'Đã hết hạn', {
        notBefore: new Date(Date.now() - 300 * DAY),
        notAfter: new Date(Date.now() - 30 * DAY),
      });
      const withOld = (extra = {}) =>
        signPdf(base, { signer: signerOf(old, 'ECDSA-SHA256'), certificate: expiredCert, ...extra });
      const plain = await verifyPdf(await withOld());
      expect(reasonsOf(plain)).toContain('certificate-expired-no-poe');
      expect(plain.signatures[0]).toMatchObject({ verdict: 'indeterminate', validAtSigningTime: false });
      const inTime = await verifyPdf(
        await withOld({ timestamp: pki.timestamp(new Date(Date.now() - 60 * DAY)) }),
      );
      expect(inTime.signatures[0].validAtSigningTime).toBe(true);
      expect(reasonsOf(inTime)).not.toContain('certificate-expired-no-poe');
      const late = await verifyPdf(await withOld({ timestamp: pki.timestamp() }));
      expect(late.signatures[0].verdict).toBe('invalid');
      expect(reasonsOf(late)).toContain('certificate-not-valid-at-signing-time');
    });

    it("a time-stamp's unit must be valid at the validation time, or when a later document time-stamp proves the token", async () => {
      // A unit whose certificate ends in a year, under the same issuing CA as the test TSA.
      const unitKey = makeKey('ec');
      const issuing = parseCertificate(pki.issuing);
      const unit = await buildCertificate(
        {
          serial: randomSerial(),
          issuer: issuing.subjectDer,
          subject: parseName('C=VN, O=Kyso thử nghiệm, CN=Kyso PDF Short TSA'),
          notBefore: new Date(Date.now() - DAY),
          notAfter: new Date(Date.now() + 365 * DAY),
          publicKey: unitKey.spki,
          signatureAlgorithm: 'ECDSA-SHA256',
          extensions: [
            ext.basicConstraints(false),
            ext.keyUsage(['digitalSignature']),
            ext.extendedKeyUsage([OID.ekuTimeStamping], true),
          ],
        },
        signFunction(pki.issuingKey, 'ECDSA-SHA256'),
      );
      const shortToken = async (signatureValue: Uint8Array) =>
        buildTimeStampToken({
          request: {
            hashAlgorithm: 'sha256',
            messageImprint: new Uint8Array(createHash('sha256').update(signatureValue).digest()),
            certReq: true,
            hasExtensions: false,
          },
          policy: '1.3.6.1.4.1.65432.1.1',
          serial: Uint8Array.of(7),
          genTime: new Date(),
          tsaCertificate: unit,
          chain: [pki.issuing],
          signatureAlgorithm: 'ECDSA-SHA256',
          sign: signFunction(unitKey, 'ECDSA-SHA256'),
        });
      const k = makeKey('ec');
      const longLeaf = await pki.leaf(k, 'Lâu Dài', { notAfter: new Date(Date.now() + 8 * 365 * DAY) });
      const bt = await signPdf(base, {
        signer: signerOf(k, 'ECDSA-SHA256'),
        certificate: longLeaf,
        chain: [pki.issuing],
        timestamp: shortToken,
      });
      const inTwoYears = { trustAnchors: [pki.root], time: new Date(Date.now() + 2 * 365 * DAY) };
      // Today the unit is valid; in two years it has expired and nothing later proves the token.
      expect((await verifyPdf(bt, { trustAnchors: [pki.root] })).signatures[0].timestamp?.chain).toBe(
        'trusted',
      );
      const alone = (await verifyPdf(bt, inTwoYears)).signatures[0];
      expect(alone.timestamp?.chain).toBe('untrusted');
      expect(alone.reasons).toContain('timestamp-chain-untrusted');
      expect(alone.details.join('\n')).toMatch(/no later document time-stamp/);
      // A document time-stamp made now, by a unit still valid then, proves the token existed while its unit was valid.
      const archived = await timeStampPdf(bt, { stamp: (digest) => pki.tokenFor(digest) });
      const [sig, doc] = (await verifyPdf(archived, inTwoYears)).signatures;
      expect(doc.chain.status).toBe('trusted');
      expect(sig.timestamp?.chain, sig.details.join('\n')).toBe('trusted');
      expect(sig.reasons).not.toContain('timestamp-chain-untrusted');
    });

    it('a signer certificate without digitalSignature or nonRepudiation', async () => {
      const k = makeKey('ec');
      const c = await pki.leaf(k, 'Chỉ mã hoá', { usages: ['keyAgreement'] });
      const r = await verifyPdf(await signPdf(base, { signer: signerOf(k, 'ECDSA-SHA256'), certificate: c }));
      expect(r.signatures[0].verdict).toBe('invalid');
      expect(reasonsOf(r)).toContain('certificate-key-usage');
    });

    it('unsigned signature fields, and a document without signatures', async () => {
      const none = await verifyPdf(base);
      expect(none).toMatchObject({ verdict: 'invalid', reasons: ['no-signatures'], signatures: [] });
      // A field whose value is only a placeholder is no valid signature.
      const prepared = prepareSignature(base).prepared;
      const r = await verifyPdf(prepared);
      expect(r.verdict).toBe('invalid');
      expect(reasonsOf(r)).toEqual(['cms-malformed']);
    });
  });

  describe('adversarial: each case is flagged, never valid', () => {
    it('a byte changed inside a signed range, before and after the gap', async () => {
      for (const [from, to] of [
        ['Trang 1', 'Trang 7'],
        ['/Reason ', '/Reasom '],
        ['%%EOF', '%%EOE'],
      ]) {
        const tampered = replaceLast(signed, from, to);
        const r = await verifyPdf(tampered);
        expect(r.verdict, `${from} → ${to}`).toBe('invalid');
        expect(r.signatures.length === 0 || reasonsOf(r).length > 0).toBe(true);
      }
      const content = await verifyPdf(replaceLast(signed, 'Trang 1', 'Trang 7'));
      expect(reasonsOf(content)).toEqual(['digest-mismatch']);
      expect(content.signatures[0].integrity).toEqual({
        byteRange: 'passed',
        digest: 'failed',
        signature: 'not-checked',
      });
      const ps = pdfsig(tmp.dir, replaceLast(signed, 'Trang 1', 'Trang 7'), 'tampered');
      expect(ps.signatures[0].validation).not.toBe('Signature is Valid.');
      // The report still says who the CMS names as signer: signer, issuer, serial and validity rows.
      const serial = parseCertificate(cert).serialHex.toUpperCase();
      for (const [lang, rows] of [
        [
          'vi',
          [
            'Người ký: Nguyễn Văn An',
            'Tổ chức cấp: ',
            `Số hiệu chứng thư số: ${serial}`,
            'Thời hạn chứng thư số: từ ',
          ],
        ],
        [
          'en',
          [
            'Signer: Nguyễn Văn An',
            'Issuer: ',
            `Certificate serial number: ${serial}`,
            'Certificate validity: from ',
          ],
        ],
      ] as const) {
        const text = renderReport('tampered.pdf', content, lang);
        for (const row of rows) expect(text).toContain(`\n  ${row}`);
      }
      const rows = reportContent('tampered.pdf', content, 'en').signatures[0].rows.map((r) => r.label);
      expect(rows).toEqual(expect.arrayContaining(['Signer', 'Issuer', 'Certificate serial number']));
    });

    it('ByteRanges that do not cover what they claim', async () => {
      const [a, b, c, d] = rawSignatures(signed)[0].byteRange;
      const cases: [string, string][] = [
        [`0 ${b} ${c + 2} ${d - 2}`, 'byte-range-gap-not-contents'],
        [`0 ${b - 2} ${c} ${d}`, 'byte-range-gap-not-contents'],
        [`0 ${b} ${c} ${d + 100}`, 'byte-range-outside-file'],
        [`0 ${b} ${c} ${d - 6}`, 'byte-range-not-at-revision-end'],
        [`${a + 1} ${b - 1} ${c} ${d}`, 'byte-range-malformed'],
        [`0 ${c} ${b} ${d}`, 'byte-range-malformed'],
        [`0 ${b} ${c}`, 'byte-range-malformed'],
        [`0 ${b} ${c} ${d} 0 0`, 'byte-range-malformed'],
        [`0 ${b} ${c} ${d}.0`, 'byte-range-malformed'],
        [`0 ${b} ${c} -${d}`, 'byte-range-malformed'],
        [`0 ${b} ${c} /X`, 'byte-range-malformed'],
      ];
      for (const [range, reason] of cases) {
        const r = await verifyPdf(patchByteRange(signed, 0, range));
        expect(r.verdict, range).toBe('invalid');
        expect(reasonsOf(r), range).toEqual([reason]);
        expect(r.signatures[0].integrity.byteRange).toBe('failed');
      }
    });

    it('a gap pointed at another signature’s /Contents (signature wrapping)', async () => {
      const [first, second] = rawSignatures(twice).map((s) => s.byteRange);
      const wrapped = patchByteRange(
        twice,
        1,
        `0 ${first[1]} ${first[2]} ${second[2] + second[3] - first[2]}`,
      );
      const r = await verifyPdf(wrapped);
      expect(r.verdict).toBe('invalid');
      expect(reasonsOf(r, 1)).toEqual(['byte-range-gap-not-contents']);
    });

    it('/Contents moved: renamed away, made a literal string, or the dictionary re-stored in a later revision', async () => {
      const renamed = await verifyPdf(replaceLast(signed, '/Contents <', '/Contentz <'));
      expect(reasonsOf(renamed)).toEqual(['contents-missing']);
      const text = latin1(signed);
      const [, b, c] = rawSignatures(signed)[0].byteRange;
      const literal = bytes(`${text.slice(0, b)}(${text.slice(b + 1, c - 1)})${text.slice(c)}`);
      expect(reasonsOf(await verifyPdf(literal))).toEqual(['contents-not-hex']);
      // A new revision writes the same signature dictionary elsewhere: its /Contents is no longer the gap.
      const doc = PdfDocument.open(signed);
      const sigRef = doc.signatureFields()[0].signature!.ref!;
      const update = new IncrementalUpdate(doc);
      update.set(sigRef, (doc.object(sigRef) as PdfDict).copy());
      const moved = await verifyPdf(update.write().bytes);
      expect(moved.verdict).toBe('invalid');
      expect(reasonsOf(moved)).toEqual(['byte-range-gap-not-contents']);
    });

    it('the signature dictionary re-stored in a later revision as a direct /V or inside an object stream', async () => {
      const doc = PdfDocument.open(signed);
      const [field] = doc.signatureFields();
      const sig = field.signature!;
      const direct = new IncrementalUpdate(doc);
      direct.set(field.ref, field.dict.copy().set('V', sig.dict));
      expect(reasonsOf(await verifyPdf(direct.write().bytes))).toEqual(['signature-dictionary-not-indirect']);
      // By hand: an object stream holding the same dictionary text, and an xref stream pointing into it.
      const text = latin1(signed);
      const span = sig.objectSpan!;
      const body = text
        .slice(text.indexOf('obj', span.start) + 3, text.lastIndexOf('endobj', span.end))
        .trim();
      const header = `${sig.ref!.num} 0 `;
      const objstm = deflateSync(Buffer.from(header + body, 'latin1'));
      const [stmNum, xrefNum] = [doc.size, doc.size + 1];
      const stmAt = signed.length;
      let tail = `${stmNum} 0 obj\n<< /Type /ObjStm /N 1 /First ${header.length} /Filter /FlateDecode /Length ${objstm.length} >>\nstream\n`;
      tail += `${objstm.toString('latin1')}\nendstream\nendobj\n`;
      const xrefAt = stmAt + tail.length;
      const row = (type: number, a: number, g: number) => [
        type,
        a >>> 24,
        (a >>> 16) & 255,
        (a >>> 8) & 255,
        a & 255,
        g >> 8,
        g & 255,
      ];
      const rows = Buffer.from([...row(2, stmNum, 0), ...row(1, stmAt, 0), ...row(1, xrefAt, 0)]);
      tail += `${xrefNum} 0 obj\n<< /Type /XRef /Size ${xrefNum + 1} /W [1 4 2] /Index [${sig.ref!.num} 1 ${stmNum} 2] /Root ${doc.rootRef().num} 0 R /Prev ${doc.startxref} /Length ${rows.length} >>\nstream\n`;
      tail += `${rows.toString('latin1')}\nendstream\nendobj\nstartxref\n${xrefAt}\n%%EOF\n`;
      const compressed = bytes(text + tail);
      expect(PdfDocument.open(compressed).location(sig.ref!)).toBeUndefined();
      const r = await verifyPdf(compressed);
      expect(r.verdict).toBe('invalid');
      expect(reasonsOf(r)).toEqual(['signature-dictionary-compressed']);
    });

    it('a signed file rewritten whole (qpdf with object streams) rather than incrementally', async () => {
      const rewritten = qpdf(tmp.dir, twice, ['--object-streams=generate'], 'rewritten');
      const r = await verifyPdf(rewritten);
      expect(r.verdict).toBe('invalid');
      expect(r.signatures.map((s) => s.verdict)).toEqual(['invalid', 'invalid']);
    });

    it('content appended after the signature: a new revision that changes a page', async () => {
      const doc = PdfDocument.open(signed);
      const page = doc.pages()[0];
      const update = new IncrementalUpdate(doc);
      const overlay = update.newRef();
      update.set(overlay, new PdfStream(new PdfDict(), bytes('BT /F1 40 Tf 72 500 Td (PAID) Tj ET')));
      update.set(page.ref, page.dict.copy().set('Contents', [page.dict.get('Contents')!, overlay]));
      const changed = update.write().bytes;
      const r = await verifyPdf(changed);
      expect(r.verdict).not.toBe('valid');
      expect(r.signatures[0]).toMatchObject({
        verdict: 'invalid',
        coversWholeFile: false,
        revision: 2,
        modifications: { status: 'disallowed', revisionsAfter: 1 },
        integrity: { byteRange: 'passed', digest: 'passed', signature: 'passed' },
      });
      expect(reasonsOf(r)).toContain('changes-not-allowed');
      expect(pdfsig(tmp.dir, changed, 'appended').signatures[0].total).toBe(false);
    });

    it('a CMS whose signature, digest or form is wrong', async () => {
      const prepared = prepareSignature(base);
      const digest = prepared.digest('sha256');
      const cmsWith = (over: { digest?: Uint8Array; content?: Uint8Array; signWith?: TestKey }) =>
        buildSignedData({
          contentType: CMS_OID.data,
          ...(over.content ? { content: over.content } : { contentDigest: over.digest ?? digest }),
          signedAttributes: [signingCertificateV2(cert)],
          certificates: [cert],
          signer: {
            certificate: cert,
            signatureAlgorithm: 'ECDSA-SHA256',
            sign: async (data) => rawSign((over.signWith ?? key).privateKey, 'ECDSA-SHA256', data),
          },
        });
      const complete = (cms: Uint8Array) => verifyPdf(completeSignature(prepared.prepared, cms));
      expect(reasonsOf(await complete(await cmsWith({ signWith: makeKey('ec') })))).toContain(
        'signature-invalid',
      );
      const wrongDigest = createHash('sha256').update('other bytes').digest();
      expect(reasonsOf(await complete(await cmsWith({ digest: wrongDigest })))).toEqual(['digest-mismatch']);
      expect(reasonsOf(await complete(await cmsWith({ content: base })))).toEqual(['cms-not-detached']);
      // Bytes after the DER inside /Contents that are not zero padding.
      const good = await cmsWith({});
      const text = latin1(completeSignature(prepared.prepared, good));
      const [, b] = prepared.byteRange;
      const trailing = bytes(
        `${text.slice(0, b + 1 + good.length * 2)}FF${text.slice(b + 3 + good.length * 2)}`,
      );
      expect(reasonsOf(await verifyPdf(trailing))).toEqual(['contents-trailing-bytes']);
    });

    it('garbage and truncated files: a report saying invalid, never an exception', async () => {
      for (const junk of [new Uint8Array(0), bytes('%PDF-1.7\n'), new Uint8Array(randomBytes(5000))]) {
        const r = await verifyPdf(junk);
        expect(r).toMatchObject({ verdict: 'invalid', reasons: ['unreadable'] });
        expect(r.error?.code).toBeTruthy();
      }
      for (let cut = 1; cut < twice.length; cut += Math.max(1, Math.floor(twice.length / 400))) {
        const r = await verifyPdf(twice.subarray(0, cut));
        expect(r.verdict, `cut at ${cut}`).not.toBe('valid');
        expect(r.signatures.filter((s) => s.coversWholeFile && s.verdict !== 'invalid')).toEqual([]);
      }
    });

    it('any single byte changed in the signed ranges makes a one-signature file invalid', async () => {
      const [, b, c] = rawSignatures(signed)[0].byteRange;
      const trusted = { trustAnchors: [pki.root] };
      for (let i = 0; i < 300; i++) {
        const m = Uint8Array.from(signed);
        let at = randomBytes(4).readUInt32BE() % (signed.length - (c - b));
        if (at >= b) at += c - b;
        m[at] = (m[at] + 1 + (randomBytes(1)[0] % 255)) & 0xff;
        const r = await verifyPdf(m, trusted);
        expect(r.verdict, `byte ${at}: ${JSON.stringify(r.signatures.map((s) => s.reasons))}`).toBe(
          'invalid',
        );
      }
    });
  });

  it('verifies the three layouts signed twice', async () => {
    for (const [layout, pdf] of Object.entries(variants(tmp.dir, base))) {
      const r = await verifyPdf(await sign(await sign(pdf)), { trustAnchors: [pki.root] });
      expect(
        r.signatures.map((s) => [s.integrity.digest, s.integrity.signature, s.coversWholeFile]),
        layout,
      ).toEqual([
        ['passed', 'passed', false],
        ['passed', 'passed', true],
      ]);
      expect(reasonsOf(r, 1), layout).toEqual(['revocation-unknown']);
    }
  });
});
