import { beforeAll, describe, expect, it } from 'vitest';
import { makeKey, signFunction, type TestKey, testCaCertificate } from '../../test/support/keys.js';
import { buildCertificate, type ParsedCertificate, parseCertificate } from './certificate.js';
import { buildCrl, parseCrl } from './crl.js';
import { explicit, sequence } from './der.js';
import { type Extension, ext, keyIdentifier } from './extensions.js';
import { encodeName, parseName } from './name.js';
import { buildOcspResponse, issuerHashes, ocspCertId, parseOcspResponse } from './ocsp.js';
import { OID } from './oids.js';
import {
  crlStatement,
  crlUrls,
  ocspStatement,
  ocspUrls,
  readRevocationInfoArchival,
} from './revocation-status.js';
import { randomSerial } from './serial.js';

const DAY = 86_400_000;
const CRL_URL = 'http://ca.test/crl/issuing.crl';

let caKey: TestKey;
let ca: ParsedCertificate;
let leaf: ParsedCertificate;

async function endEntity(key: TestKey, cn: string, extensions: Extension[]): Promise<ParsedCertificate> {
  const now = Date.now();
  return parseCertificate(
    await buildCertificate(
      {
        serial: randomSerial(),
        issuer: ca.subjectDer,
        subject: parseName(`C=VN, CN=${cn}`),
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 365 * DAY),
        publicKey: key.spki,
        signatureAlgorithm: 'ECDSA-SHA256',
        extensions: [ext.basicConstraints(false), ...extensions],
      },
      signFunction(caKey, 'ECDSA-SHA256'),
    ),
  );
}

const crl = (revoked: ParsedCertificate[], options: { distributionPoint?: string; key?: TestKey } = {}) =>
  buildCrl(
    {
      issuer: ca.subjectDer,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY),
      number: 1n,
      signatureAlgorithm: 'ECDSA-SHA256',
      authorityKeyId: keyIdentifier(caKey.spki),
      distributionPoint: options.distributionPoint,
    },
    revoked.map((c) => ({
      serial: c.serial,
      revokedAt: new Date(Date.now() - 1000),
      reason: 'keyCompromise',
    })),
    signFunction(options.key ?? caKey, 'ECDSA-SHA256'),
  ).then(parseCrl);

const ocsp = (signer: TestKey, responderKeyId: Uint8Array, certs: Uint8Array[] = []) =>
  buildOcspResponse(
    {
      responderKeyId,
      producedAt: new Date(),
      responses: [
        {
          certId: ocspCertId('sha1', issuerHashes(ca, 'sha1'), leaf.serial),
          status: { status: 'good' },
          thisUpdate: new Date(),
        },
      ],
      signatureAlgorithm: 'ECDSA-SHA256',
      certs,
    },
    signFunction(signer, 'ECDSA-SHA256'),
  ).then((der) => parseOcspResponse(der));

describe('revocation status data', () => {
  beforeAll(async () => {
    caKey = makeKey('ec');
    const name = encodeName(parseName('C=VN, CN=Status Test CA'));
    ca = parseCertificate(await testCaCertificate(name, caKey, name, caKey));
    leaf = await endEntity(makeKey('ec'), 'Leaf', [
      ext.authorityInfoAccess({ ocsp: ['http://ca.test/ocsp'], caIssuers: ['http://ca.test/ca.cer'] }),
      ext.crlDistributionPoints([CRL_URL]),
    ]);
  });

  it('reads the OCSP URL of the AIA and the CRL URL of the distribution points', () => {
    expect(ocspUrls(leaf)).toEqual(['http://ca.test/ocsp']);
    expect(crlUrls(leaf)).toEqual([CRL_URL]);
    expect(ocspUrls(ca)).toEqual([]);
  });

  it('a CRL speaks for a certificate when its issuer signed it and it covers the certificate', async () => {
    expect(crlStatement(await crl([]), leaf, ca)).toMatchObject({ ok: true, status: 'good' });
    expect(crlStatement(await crl([leaf], { distributionPoint: CRL_URL }), leaf, ca)).toMatchObject({
      ok: true,
      status: 'revoked',
      reason: 'keyCompromise',
    });
    expect(
      crlStatement(await crl([], { distributionPoint: 'http://elsewhere/x.crl' }), leaf, ca),
    ).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/distribution point/),
    });
    expect(crlStatement(await crl([], { key: makeKey('ec') }), leaf, ca)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not verify/),
    });
  });

  it('an OCSP response speaks for a certificate when the CA or a responder it delegated to signed it', async () => {
    const direct = await ocsp(caKey, keyIdentifier(caKey.spki));
    expect(ocspStatement(direct, leaf, ca, parseCertificate)).toMatchObject({ ok: true, status: 'good' });
    const responderKey = makeKey('ec');
    const delegated = await endEntity(responderKey, 'OCSP', [
      ext.keyUsage(['digitalSignature']),
      ext.extendedKeyUsage([OID.ekuOcspSigning]),
    ]);
    const viaResponder = await ocsp(responderKey, keyIdentifier(responderKey.spki), [delegated.der]);
    expect(ocspStatement(viaResponder, leaf, ca, parseCertificate)).toMatchObject({ ok: true });
    const notDelegated = await endEntity(responderKey, 'Not a responder', [
      ext.keyUsage(['digitalSignature']),
    ]);
    const noEku = await ocsp(responderKey, keyIdentifier(responderKey.spki), [notDelegated.der]);
    expect(ocspStatement(noEku, leaf, ca, parseCertificate)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/OCSPSigning/),
    });
    const forged = await ocsp(makeKey('ec'), keyIdentifier(caKey.spki));
    expect(ocspStatement(forged, leaf, ca, parseCertificate)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not verify/),
    });
    expect(ocspStatement(direct, ca, ca, parseCertificate)).toMatchObject({ ok: false });
  });

  it('reads the CRLs and OCSP responses of adbe-revocationInfoArchival', async () => {
    const c = (await crl([])).der;
    const o = Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x01);
    const value = sequence(explicit(0, sequence(c)), explicit(1, sequence(o)));
    expect(readRevocationInfoArchival(value)).toEqual({ crls: [c], ocsps: [o] });
  });
});
