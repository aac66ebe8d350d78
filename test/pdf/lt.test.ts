import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { caIssuersUrls, httpIssuerFetcher } from '../../src/cli/ca-issuers.js';
import { httpRevocationSource } from '../../src/cli/revocation-source.js';
import {
  addDss,
  completeSignature,
  extendPdf,
  PdfDocument,
  type PdfSigner,
  phrase,
  prepareSignature,
  type RevocationSource,
  readAllDss,
  renderReport,
  reportContent,
  signPdf,
  verifyPdf,
  vriKey,
} from '../../src/pdf/index.js';
import { explicit, sequence } from '../../src/pki/der.js';
import {
  buildOcspResponse,
  buildSignedData,
  CMS_OID,
  crlUrls,
  issuerHashes,
  keyIdentifier,
  ocspCertId,
  parseCertificate,
  parseCrl,
  parseOcspResponse,
  parseSignedData,
  REVOCATION_INFO_ARCHIVAL_OID,
  signingCertificateV2,
  toPem,
} from '../../src/pki/index.js';
import { describeWith, run, tempDir, toolMissing } from '../support/env.js';
import { makeKey, rawSign, signFunction } from '../support/keys.js';
import { enrol, type TestServer } from '../support/server.js';
import { minimalPdf } from './fixtures.js';
import { startPublicTestServer, tsaToken } from './lt-server.js';
import { opensslTsVerify, pdfsig, qpdfCheck, rawSignatures } from './tools.js';

let tmp: ReturnType<typeof tempDir>;
let server: TestServer;
let root: Uint8Array;
let issuing: Uint8Array;
const at = (name: string) => path.join(tmp.dir, name);
const source = httpRevocationSource({ timeoutMs: 3000 });

/** A signer whose certificate the server's CA issues from an openssl CSR. */
async function issueSigner(
  name: string,
): Promise<{ signer: PdfSigner; certificate: Uint8Array; serial: string }> {
  const record = await enrol(server, tmp.dir, name, `/C=VN/O=UBND tỉnh Thử nghiệm/CN=${name}`);
  const privateKey = createPrivateKey(readFileSync(record.key));
  const publicKey = parseCertificate(record.der).publicKey;
  return {
    signer: {
      algorithm: 'ECDSA-SHA256',
      publicKey,
      sign: async (d) => rawSign(privateKey, 'ECDSA-SHA256', d),
    },
    certificate: record.der,
    serial: record.serial,
  };
}

/** A token over a SHA-256 imprint from the server's TSA. */
const stamp = (imprint: Uint8Array) => tsaToken(`${server.url}/tsa`, imprint);

async function signBT(who: { signer: PdfSigner; certificate: Uint8Array }): Promise<Uint8Array> {
  return signPdf(minimalPdf(), {
    signer: who.signer,
    certificate: who.certificate,
    chain: [issuing],
    timestamp: (value) => stamp(new Uint8Array(createHash('sha256').update(value).digest())),
  });
}

const extend = (pdf: Uint8Array, level: 'B-LT' | 'B-LTA') =>
  extendPdf(pdf, { level, source, certificates: [issuing, root], stamp: (digest) => stamp(digest) });

const offline = (pdf: Uint8Array) => verifyPdf(pdf, { trustAnchors: [root] });
const online = (pdf: Uint8Array, s: RevocationSource = source) =>
  verifyPdf(pdf, { trustAnchors: [root], revocation: s });

const pem = (name: string, der: Uint8Array, label: 'CERTIFICATE' | 'X509 CRL' = 'CERTIFICATE') => {
  writeFileSync(at(name), toPem(label, der));
  return at(name);
};

/** Checks a DSS with OpenSSL alone: each OCSP response against its issuer, each CRL's signature. */
function checkDssWithOpenssl(pdf: Uint8Array, label: string, certs: Uint8Array[]): void {
  const dss = readAllDss(pdf);
  expect(dss.ocsps.length).toBeGreaterThan(0);
  const known = [...certs, ...dss.certs].map((c) => parseCertificate(c));
  const rootFile = pem(`${label}-root.pem`, root);
  dss.ocsps.forEach((der, i) => {
    const serial = parseOcspResponse(der).responses[0].serialHex;
    const cert = known.find((c) => c.serialHex === serial)!;
    const issuer = known.find((c) => Buffer.compare(c.subjectDer, cert.issuerDer) === 0)!;
    const file = at(`${label}-${i}.ocsp`);
    writeFileSync(file, der);
    const r = run('openssl', [
      'ocsp',
      '-respin',
      file,
      '-CAfile',
      rootFile,
      '-issuer',
      pem(`${label}-${i}-issuer.pem`, issuer.der),
      '-cert',
      pem(`${label}-${i}-cert.pem`, cert.der),
      '-no_nonce',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toContain('Response verify OK');
    expect(r.stdout).toMatch(/: good/);
  });
  dss.crls.forEach((der, i) => {
    const crl = parseCrl(der);
    const issuer = known.find((c) => Buffer.compare(c.subjectDer, crl.issuerDer) === 0)!;
    const r = run('openssl', [
      'crl',
      '-in',
      pem(`${label}-${i}.crl`, der, 'X509 CRL'),
      '-CAfile',
      pem(`${label}-${i}-crl-issuer.pem`, issuer.der),
      '-noout',
      '-verify',
    ]);
    expect(r.stderr + r.stdout).toContain('verify OK');
  });
}

function checkedByTools(pdf: Uint8Array, label: string, signatures: number): void {
  const q = qpdfCheck(tmp.dir, pdf, `${label}-qpdf`);
  expect(q.ok, q.output).toBe(true);
  const p = pdfsig(tmp.dir, pdf, `${label}-pdfsig`);
  expect(p.signatures, p.output).toHaveLength(signatures);
  // pdfsig does not check document time-stamps (ETSI.RFC3161): it lists them, signing the whole file.
  for (const s of p.signatures)
    if (s.type === 'ETSI.CAdES.detached') expect(s.validation, p.output).toBe('Signature is Valid.');
    else expect(s.total, p.output).toBe(true);
}

describeWith(toolMissing('openssl', 'qpdf', 'pdfsig'), 'PAdES B-LT and B-LTA against a Kyso server', () => {
  let good: Awaited<ReturnType<typeof issueSigner>>;
  let bt: Uint8Array;
  let lt: Uint8Array;
  let lta: Uint8Array;

  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-lt-');
    server = await startPublicTestServer(tmp.dir);
    [issuing, root] = (await server.authority.chain()).map((c) => c.certificate);
    good = await issueSigner('Nguyễn Văn Tốt');
    bt = await signBT(good);
  });
  afterAll(async () => {
    await server?.stop().catch(() => {});
    tmp?.remove();
  });

  test('B-LT: the DSS holds what validates the signature and its time-stamp; valid offline', async () => {
    const r = await extend(bt, 'B-LT');
    expect(r.problems).toEqual([]);
    lt = r.pdf;
    expect(Buffer.compare(lt.subarray(0, bt.length), bt)).toBe(0);
    const report = await offline(lt);
    const [s] = report.signatures;
    expect(s.reasons, s.details.join('\n')).toEqual([]);
    expect(s.verdict).toBe('valid');
    expect(s.revocation).toMatchObject({ status: 'good', source: 'dss' });
    // The signer and the issuing CA, each from the DSS.
    expect(s.revocation.certificates?.map((c) => c.source)).toEqual(['dss', 'dss']);
    expect(s.timestamp?.revocation).toMatchObject({ status: 'good', source: 'dss' });
    checkedByTools(lt, 'lt', 1);
    checkDssWithOpenssl(lt, 'lt', [good.certificate, issuing]);
    const dss = readAllDss(lt);
    expect(dss.certs.some((c) => Buffer.compare(c, good.certificate) === 0)).toBe(true);
  });

  test('B-LTA: a document time-stamp over the DSS, valid offline, accepted by openssl ts -verify', async () => {
    const r = await extend(bt, 'B-LTA');
    expect(r.problems).toEqual([]);
    lta = r.pdf;
    const report = await offline(lta);
    expect(report.signatures.map((s) => [s.kind, s.verdict])).toEqual([
      ['signature', 'valid'],
      ['document-timestamp', 'valid'],
    ]);
    const doc = report.signatures[1];
    expect(doc.coversWholeFile).toBe(true);
    expect(doc.revocation).toMatchObject({ status: 'good', source: 'dss' });
    expect(doc.warnings).toEqual([]);
    checkedByTools(lta, 'lta', 2);
    checkDssWithOpenssl(lta, 'lta', [good.certificate, issuing]);
    const raw = rawSignatures(lta).at(-1)!;
    const tsa = parseSignedData(raw.cms).certificates;
    const files = {
      root: pem('lta-root.pem', root),
      issuing: pem('lta-issuing.pem', issuing),
      tsa: pem('lta-tsa.pem', tsa[0]),
    };
    const ts = opensslTsVerify(tmp.dir, raw.cms, raw.signed, files, 'lta-doc-ts');
    expect(ts.ok, ts.output).toBe(true);
    // Extending again keeps the DSS's entries, each once.
    const again = await extend(lta, 'B-LT');
    const before = readAllDss(lta);
    const after = readAllDss(again.pdf);
    expect(after.certs.length).toBeGreaterThanOrEqual(before.certs.length);
    for (const c of before.certs)
      expect(after.certs.filter((x) => Buffer.compare(x, c) === 0)).toHaveLength(1);
  });

  test('leader, then seal, then B-LTA: every signature and the document time-stamp valid offline', async () => {
    const seal = await issueSigner('Văn thư');
    const twice = await signPdf(bt, {
      signer: seal.signer,
      certificate: seal.certificate,
      chain: [issuing],
      timestamp: (value) => stamp(new Uint8Array(createHash('sha256').update(value).digest())),
    });
    const r = await extend(twice, 'B-LTA');
    expect(r.problems).toEqual([]);
    const report = await offline(r.pdf);
    expect(report.signatures.map((s) => [s.field, s.verdict, s.revocation.status])).toEqual([
      ['Signature1', 'valid', 'good'],
      ['Signature2', 'valid', 'good'],
      ['Signature3', 'valid', 'good'],
    ]);
    expect(report.verdict).toBe('valid');
    checkedByTools(r.pdf, 'chain-lta', 3);
  });

  test('revocation data the CMS carries (adbe-revocationInfoArchival, crls) counts offline', async () => {
    const who = await issueSigner('Đỗ Văn Nhúng');
    const ocsp = (await source.ocsp(who.certificate, issuing))!;
    const rootCrl = (await source.crl(crlUrls(parseCertificate(issuing))[0]))!;
    const prepared = prepareSignature(minimalPdf());
    const archival = sequence(explicit(1, sequence(ocsp)));
    const cms = await buildSignedData({
      contentType: CMS_OID.data,
      contentDigest: prepared.digest('sha256'),
      signedAttributes: [
        signingCertificateV2(who.certificate),
        { oid: REVOCATION_INFO_ARCHIVAL_OID, values: [archival] },
      ],
      certificates: [who.certificate, issuing],
      crls: [rootCrl],
      signer: { certificate: who.certificate, signatureAlgorithm: 'ECDSA-SHA256', sign: who.signer.sign },
    });
    const s = (await offline(completeSignature(prepared.prepared, cms))).signatures[0];
    expect(s.reasons, s.details.join('\n')).toEqual([]);
    expect(s.revocation).toMatchObject({ status: 'good', source: 'cms' });
    expect(s.revocation.certificates?.map((c) => c.kind)).toEqual(['ocsp', 'crl']);
  });

  test('a signer revoked before signing is invalid online and from the DSS', async () => {
    const revoked = await issueSigner('Trần Văn Thu Hồi');
    await server.authority.revoke(revoked.serial, { reason: 'keyCompromise', actor: 'test' });
    await new Promise((r) => setTimeout(r, 1100));
    const signed = await signBT(revoked);
    const on = (await online(signed)).signatures[0];
    expect(on.verdict).toBe('invalid');
    expect(on.reasons).toContain('certificate-revoked');
    expect(on.revocation).toMatchObject({ status: 'revoked', source: 'online' });
    expect(on.revocation.certificates?.[0]).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    const extended = await extend(signed, 'B-LT');
    const off = (await offline(extended.pdf)).signatures[0];
    expect(off.verdict).toBe('invalid');
    expect(off.reasons).toContain('certificate-revoked');
    expect(off.revocation).toMatchObject({ status: 'revoked', source: 'dss' });
  });

  test('a certificate revoked after the B-T signing time stays valid, with a note', async () => {
    const late = await issueSigner('Lê Văn Muộn');
    const signed = await signBT(late);
    await new Promise((r) => setTimeout(r, 1100));
    await server.authority.revoke(late.serial, { reason: 'superseded', actor: 'test' });
    const s = (await online(signed)).signatures[0];
    expect(s.reasons, s.details.join('\n')).toEqual([]);
    expect(s.verdict).toBe('valid');
    expect(s.warnings).toContain('revoked-after-signing');
    expect(s.revocation.certificates?.[0]).toMatchObject({ status: 'revoked', source: 'online' });
  });

  test('a certificate put on hold after the B-T signing time is indeterminate, and every report says on hold', async () => {
    const held = await issueSigner('Vũ Tạm Dừng');
    const signed = await signBT(held);
    await new Promise((r) => setTimeout(r, 1100));
    await server.authority.hold(held.serial, { actor: 'test' });
    const report = await online(signed);
    const [s] = report.signatures;
    expect(s.verdict).toBe('indeterminate');
    expect(s.reasons).toEqual(['certificate-on-hold']);
    expect(s.warnings).not.toContain('revoked-after-signing');
    expect(s.revocation).toMatchObject({ status: 'on-hold', source: 'online' });
    expect(s.details.join('\n')).toMatch(/was put on hold at/);
    // Text (and the PDF report, which lays out the same rows) and JSON agree.
    const text = renderReport('held.pdf', report, 'en');
    expect(text).toContain('Revocation status: on hold (from the OCSP online');
    expect(text).not.toContain('not revoked');
    expect(text).not.toContain(phrase('revoked-after-signing', 'en'));
    const rows = reportContent('held.pdf', report, 'vi').signatures[0].rows;
    expect(rows).toContainEqual({
      label: 'Tình trạng thu hồi',
      value: expect.stringMatching(/^đang bị tạm dừng \(/),
    });
    expect(JSON.parse(JSON.stringify(report)).signatures[0].revocation.status).toBe('on-hold');
  });

  test('B-LTA whose CMS lacks the issuing CA but whose DSS holds it: trusted offline, from the DSS', async () => {
    const who = await issueSigner('Đinh Thiếu Chuỗi');
    // As from a PKCS#12 file without the chain: the CMS carries the signer's certificate alone.
    const bare = await signPdf(minimalPdf(), {
      signer: who.signer,
      certificate: who.certificate,
      chain: [],
      timestamp: (value) => stamp(new Uint8Array(createHash('sha256').update(value).digest())),
    });
    const cms = parseSignedData(rawSignatures(bare)[0].cms);
    expect(cms.certificates.some((c) => Buffer.compare(c, issuing) === 0)).toBe(false);
    const r = await extend(bare, 'B-LTA');
    expect(r.problems).toEqual([]);
    expect(readAllDss(r.pdf).certs.some((c) => Buffer.compare(c, issuing) === 0)).toBe(true);
    const report = await offline(r.pdf);
    const [s] = report.signatures;
    expect(s.chain.status, s.details.join('\n')).toBe('trusted');
    expect(s.chain.path?.map((c) => parseCertificate(c).serialHex)).toEqual(
      [who.certificate, issuing, root].map((c) => parseCertificate(c).serialHex),
    );
    expect(report.signatures.map((x) => x.verdict)).toEqual(['valid', 'valid']);
  });

  test('a B-B file without its issuing CA: untrusted offline, trusted online through AIA caIssuers', async () => {
    const who = await issueSigner('Hồ Thiếu Trung Gian');
    const bare = await signPdf(minimalPdf(), { signer: who.signer, certificate: who.certificate, chain: [] });
    const off = (await offline(bare)).signatures[0];
    expect(off.chain.status).toBe('untrusted');
    expect(off.reasons).toContain('chain-untrusted');
    const fetched: string[] = [];
    const fetchIssuers = httpIssuerFetcher({ timeoutMs: 3000 });
    const on = await verifyPdf(bare, {
      trustAnchors: [root],
      revocation: source,
      fetchIssuers: (url) => {
        fetched.push(url);
        return fetchIssuers(url);
      },
    });
    const [s] = on.signatures;
    expect(s.chain.status, s.details.join('\n')).toBe('trusted');
    expect(fetched).toEqual(caIssuersUrls(parseCertificate(who.certificate)));
    expect(s.verdict).toBe('valid');
    expect(s.revocation.certificates?.map((c) => c.status)).toEqual(['good', 'good']);
  });

  test('B-LT from CRLs when there is no OCSP answer: valid offline, each CRL verified by openssl', async () => {
    const crlOnly: RevocationSource = { ocsp: async () => undefined, crl: (url) => source.crl(url) };
    const r = await extendPdf(bt, { level: 'B-LT', source: crlOnly, certificates: [issuing, root] });
    expect(r.problems).toEqual([]);
    const dss = readAllDss(r.pdf);
    expect(dss.ocsps).toHaveLength(0);
    expect(dss.crls.length).toBeGreaterThan(0);
    const s = (await offline(r.pdf)).signatures[0];
    expect(s.verdict, s.details.join('\n')).toBe('valid');
    expect(s.revocation.certificates?.[0]).toMatchObject({ status: 'good', source: 'dss', kind: 'crl' });
    for (const [i, der] of dss.crls.entries()) {
      const issuer = [issuing, root].find(
        (c) => Buffer.compare(parseCertificate(c).subjectDer, parseCrl(der).issuerDer) === 0,
      )!;
      const v = run('openssl', [
        'crl',
        '-in',
        pem(`crl-${i}.crl`, der, 'X509 CRL'),
        '-CAfile',
        pem(`crl-${i}-issuer.pem`, issuer),
        '-noout',
        '-verify',
      ]);
      expect(v.stderr + v.stdout).toContain('verify OK');
    }
    // The VRI entry of the signature: SHA-1 of its /Contents, upper-case hex.
    const contents = PdfDocument.open(bt).signatureFields()[0].signature!.contents!.bytes;
    expect(Buffer.from(r.pdf).toString('latin1')).toContain(`/VRI << /${vriKey(contents)} <<`);
  });

  test('a forged OCSP response in the DSS is not accepted', async () => {
    const leaf = parseCertificate(good.certificate);
    const issuer = parseCertificate(issuing);
    const forger = makeKey('ec');
    const now = new Date();
    const forged = await buildOcspResponse(
      {
        // It claims to be the issuing CA, but another key signs it.
        responderKeyId: keyIdentifier(issuer.publicKey),
        producedAt: now,
        responses: [
          {
            certId: ocspCertId('sha1', issuerHashes(issuer, 'sha1'), leaf.serial),
            status: { status: 'good' },
            thisUpdate: now,
            nextUpdate: new Date(now.getTime() + 86_400_000),
          },
        ],
        signatureAlgorithm: 'ECDSA-SHA256',
      },
      signFunction(forger, 'ECDSA-SHA256'),
    );
    const withForged = addDss(bt, { ocsps: [forged] });
    const s = (await offline(withForged)).signatures[0];
    expect(s.verdict).toBe('indeterminate');
    expect(s.reasons).toContain('revocation-unknown');
    expect(s.revocation.certificates?.[0]).toMatchObject({ status: 'unknown' });
    expect(s.details.join('\n')).toMatch(/signature does not verify/);
  });

  test('a revoked time-stamping unit voids the B-T time-stamp online; B-LT keeps the status it stored', async () => {
    const tsa = (await offline(bt)).signatures[0].timestamp!.tsa!;
    await server.authority.revoke(tsa.serialHex, { reason: 'keyCompromise', actor: 'test' });
    const s = (await online(bt, httpRevocationSource({ timeoutMs: 3000 }))).signatures[0];
    expect(s.verdict).toBe('invalid');
    expect(s.reasons).toContain('timestamp-certificate-revoked');
    expect(s.timestamp?.revocation).toMatchObject({ status: 'revoked', source: 'online' });
    // The DSS answers first: it proves the unit was good when the time-stamp was made.
    expect((await online(lt, httpRevocationSource({ timeoutMs: 3000 }))).verdict).toBe('valid');
  });

  test('after the server stops: B-LT and B-LTA stay valid; B-T alone is indeterminate (revocation-unknown)', async () => {
    await server.stop();
    for (const pdf of [lt, lta]) {
      expect((await offline(pdf)).verdict).toBe('valid');
      expect((await online(pdf)).verdict).toBe('valid');
    }
    // A fresh source: the shared one remembers the CRLs it fetched.
    const s = (await online(bt, httpRevocationSource({ timeoutMs: 2000 }))).signatures[0];
    expect(s.verdict).toBe('indeterminate');
    expect(s.reasons).toEqual(['revocation-unknown']);
    expect(s.details.join('\n')).toMatch(/cannot reach|no answer/);
    expect((await offline(bt)).signatures[0].details.join('\n')).toMatch(/online checking is off/);
  });
});
