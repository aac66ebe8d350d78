import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKey, runTool as run, signFunction as signer, type TestKey } from '../../test/support/keys.js';
import { verifySignature } from './algorithms.js';
import { buildCertificate, type ParsedCertificate, parseCertificate } from './certificate.js';
import { PkiError } from './errors.js';
import { type Extension, ext, keyIdentifier } from './extensions.js';
import { encodeName, parseName } from './name.js';
import {
  buildOcspRequest,
  buildOcspResponse,
  issuerHashes,
  type OcspCertId,
  type OcspResponseInput,
  ocspCertId,
  ocspErrorResponse,
  parseOcspRequest,
  parseOcspResponse,
} from './ocsp.js';
import { OID } from './oids.js';
import { toPem } from './pem.js';
import { randomSerial } from './serial.js';

const DAY = 86_400_000;
let dir: string;
const file = (name: string) => join(dir, name);

const rootKey = makeKey('ec');
const issuingKey = makeKey('ec');
const leafKey = makeKey('ec');
const ecResponderKey = makeKey('ec');
const rsaResponderKey = makeKey('rsa');
const issuingSign = signer(issuingKey, 'ECDSA-SHA256');
let root: ParsedCertificate;
let issuing: ParsedCertificate;
const leaves: ParsedCertificate[] = [];
let ecResponder: ParsedCertificate;
let rsaResponder: ParsedCertificate;
let rogueResponder: ParsedCertificate;

/** Issues a certificate under issuer (or self-signed when issuer is undefined). */
async function issue(
  subject: string,
  key: TestKey,
  extensions: Extension[],
  issuer?: { cert: ParsedCertificate; key: TestKey },
): Promise<ParsedCertificate> {
  const now = Date.now();
  const subjectDer = encodeName(parseName(subject));
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: issuer ? issuer.cert.subjectDer : subjectDer,
      subject: subjectDer,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      publicKey: key.spki,
      signatureAlgorithm: 'ECDSA-SHA256',
      extensions: [
        ...extensions,
        ext.subjectKeyIdentifier(keyIdentifier(key.spki)),
        ext.authorityKeyIdentifier(keyIdentifier((issuer?.key ?? key).spki)),
      ],
    },
    signer(issuer?.key ?? key, 'ECDSA-SHA256'),
  );
  return parseCertificate(der);
}

const responderExtensions = (eku: string) => [
  ext.basicConstraints(false),
  ext.keyUsage(['digitalSignature']),
  ext.extendedKeyUsage([eku]),
  ext.ocspNoCheck(),
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kyso-pki-ocsp-'));
  const caExtensions = [ext.basicConstraints(true), ext.keyUsage(['keyCertSign', 'cRLSign'])];
  root = await issue('C=VN, O=Kyso thử nghiệm, CN=Kyso Test Root', rootKey, caExtensions);
  issuing = await issue('C=VN, O=Kyso thử nghiệm, CN=Kyso Test Issuing CA', issuingKey, caExtensions, {
    cert: root,
    key: rootKey,
  });
  const underIssuing = { cert: issuing, key: issuingKey };
  for (const n of [1, 2, 3])
    leaves.push(
      await issue(
        `C=VN, CN=Người dùng ${n}`,
        leafKey,
        [ext.basicConstraints(false), ext.keyUsage(['digitalSignature'])],
        underIssuing,
      ),
    );
  ecResponder = await issue(
    'C=VN, CN=Kyso OCSP EC',
    ecResponderKey,
    responderExtensions(OID.ekuOcspSigning),
    underIssuing,
  );
  rsaResponder = await issue(
    'C=VN, CN=Kyso OCSP RSA',
    rsaResponderKey,
    responderExtensions(OID.ekuOcspSigning),
    underIssuing,
  );
  rogueResponder = await issue(
    'C=VN, CN=Not an OCSP responder',
    ecResponderKey,
    responderExtensions(OID.ekuTimeStamping),
    underIssuing,
  );
  const pems: [string, ParsedCertificate][] = [
    ['root', root],
    ['issuing', issuing],
    ['leaf1', leaves[0]],
    ['leaf2', leaves[1]],
    ['leaf3', leaves[2]],
    ['responder-ec', ecResponder],
    ['responder-rsa', rsaResponder],
    ['rogue', rogueResponder],
  ];
  for (const [name, cert] of pems) await writeFile(file(`${name}.pem`), toPem('CERTIFICATE', cert.der));
  await writeFile(
    file('responder-ec.key'),
    ecResponderKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  await writeFile(
    file('index.txt'),
    [
      `V\t351231000000Z\t\t${leaves[0].serialHex}\tunknown\t/CN=leaf1`,
      `R\t351231000000Z\t260304050607Z,keyCompromise\t${leaves[1].serialHex}\tunknown\t/CN=leaf2`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes an OCSP request with openssl and returns its DER. */
async function opensslRequest(name: string, args: string[]): Promise<Uint8Array> {
  const r = await run('openssl', ['ocsp', '-issuer', file('issuing.pem'), ...args, '-reqout', file(name)]);
  expect(r.code, r.out).toBe(0);
  return new Uint8Array(await readFile(file(name)));
}

/** Checks a response with openssl ocsp -respin. */
async function opensslCheck(resp: Uint8Array, args: string[]) {
  await writeFile(file('resp.der'), resp);
  return run('openssl', ['ocsp', '-respin', file('resp.der'), '-CAfile', file('root.pem'), ...args]);
}

const revokedAt = new Date('2026-03-04T05:06:07.890Z');

/** A response for the request's CertIDs: leaf1 good, leaf2 revoked (keyCompromise), others unknown. */
function answer(
  request: { certIds: OcspCertId[]; nonce?: Uint8Array },
  change: Partial<OcspResponseInput> = {},
): OcspResponseInput {
  const now = Date.now();
  return {
    responderKeyId: keyIdentifier(ecResponder.publicKey),
    producedAt: new Date(now),
    nonce: request.nonce,
    signatureAlgorithm: 'ECDSA-SHA256',
    certs: [ecResponder.der],
    responses: request.certIds.map((certId) => ({
      certId,
      status:
        certId.serialHex === leaves[0].serialHex
          ? { status: 'good' }
          : certId.serialHex === leaves[1].serialHex
            ? { status: 'revoked', revokedAt, reason: 'keyCompromise' }
            : { status: 'unknown' },
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + DAY),
    })),
    ...change,
  };
}

const ecSign = signer(ecResponderKey, 'ECDSA-SHA256');

function expectPkiError(fn: () => unknown, code: string): PkiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PkiError);
    expect((e as PkiError).code, (e as Error).message).toBe(code);
    return e as PkiError;
  }
  throw new Error(`expected PkiError ${code}`);
}

describe('parseOcspRequest', () => {
  it('reads openssl requests: CertIDs, serials, issuer hashes and the nonce', async () => {
    const plain = parseOcspRequest(
      await opensslRequest('req1.der', ['-cert', file('leaf1.pem'), '-no_nonce']),
    );
    expect(plain.signed).toBe(false);
    expect(plain.nonce).toBeUndefined();
    expect(plain.certIds).toHaveLength(1);
    const [id] = plain.certIds;
    const sha1 = issuerHashes(issuing, 'sha1');
    expect(id.hashAlgorithm).toBe('sha1');
    expect(id.serialHex).toBe(leaves[0].serialHex);
    expect(id.serial).toEqual(leaves[0].serial);
    expect(id.issuerNameHash).toEqual(sha1.nameHash);
    expect(id.issuerKeyHash).toEqual(sha1.keyHash);
    // Our CertID encoding is byte-for-byte OpenSSL's.
    expect(ocspCertId('sha1', sha1, leaves[0].serial).der).toEqual(id.der);

    const two = parseOcspRequest(
      await opensslRequest('req2.der', ['-cert', file('leaf1.pem'), '-cert', file('leaf2.pem')]),
    );
    expect(two.certIds.map((c) => c.serialHex)).toEqual([leaves[0].serialHex, leaves[1].serialHex]);
    expect(two.nonce).toHaveLength(16);

    const sha256 = parseOcspRequest(
      await opensslRequest('req3.der', ['-sha256', '-cert', file('leaf3.pem'), '-no_nonce']),
    );
    const h = issuerHashes(issuing, 'sha256');
    expect(sha256.certIds[0]).toMatchObject({
      hashAlgorithm: 'sha256',
      serialHex: leaves[2].serialHex,
      issuerNameHash: h.nameHash,
      issuerKeyHash: h.keyHash,
    });
    expect(ocspCertId('sha256', h, leaves[2].serial).der).toEqual(sha256.certIds[0].der);
  });

  it('reads a signed openssl request without checking the signature', async () => {
    const req = parseOcspRequest(
      await opensslRequest('signed.der', [
        '-cert',
        file('leaf1.pem'),
        '-signer',
        file('responder-ec.pem'),
        '-signkey',
        file('responder-ec.key'),
      ]),
    );
    expect(req.signed).toBe(true);
    expect(req.certIds[0].serialHex).toBe(leaves[0].serialHex);
    expect(req.nonce).toHaveLength(16);
  });

  it('refuses truncated, nested, oversized, indefinite and garbage input with PkiError', async () => {
    const valid = await opensslRequest('fuzz.der', ['-cert', file('leaf1.pem'), '-cert', file('leaf2.pem')]);
    for (let n = 0; n < valid.length; n++)
      expectPkiError(() => parseOcspRequest(valid.subarray(0, n)), 'malformed-ocsp-request');
    expectPkiError(() => parseOcspRequest(Uint8Array.of(...valid, 0)), 'malformed-ocsp-request');

    const nested = nestedSequences(15_000);
    expectPkiError(() => parseOcspRequest(nested), 'malformed-ocsp-request');
    // Nesting as a requestorName and as a CertID.
    for (const inner of [nestedSequences(1_000), nestedSequences(8_000)]) {
      const asName = seq(seq(Uint8Array.from([...tlvHeader(0xa1, inner.length), ...inner]), seq(seq(inner))));
      expectPkiError(() => parseOcspRequest(asName), 'malformed-ocsp-request');
    }

    const big = buildOcspRequest([{ issuer: issuing, serial: leaves[0].serial }], {
      nonce: new Uint8Array(100),
    });
    const oversized = Uint8Array.from([...tlvHeader(0x30, 70_000), ...new Uint8Array(70_000)]);
    expect(expectPkiError(() => parseOcspRequest(oversized), 'malformed-ocsp-request').message).toMatch(
      /exceeds 65536/,
    );
    expectPkiError(() => parseOcspRequest(big, { maxBytes: 100 }), 'malformed-ocsp-request');

    const indefinite = Uint8Array.of(0x30, 0x80, ...valid.subarray(2), 0, 0);
    expectPkiError(() => parseOcspRequest(indefinite), 'malformed-ocsp-request');

    for (let i = 0; i < 2_000; i++) {
      const junk = randomBytes(Math.floor(Math.random() * 300));
      if (i % 2 && junk.length > 2) junk[0] = 0x30;
      parsesOrRefuses(() => parseOcspRequest(junk), REQUEST_CODES);
    }
  });

  it('refuses 1,000 CertIDs at the limit, quickly, and accepts them when allowed', () => {
    // Two-byte serials keep 1,000 CertIDs under 64 KiB, so the CertID limit is what refuses them.
    const many = buildOcspRequest(
      Array.from({ length: 1_000 }, (_, i) => ({
        issuer: issuing,
        serial: Uint8Array.of(1 + (i >> 8), i & 0xff),
      })),
    );
    expect(many.length).toBeLessThan(65_536);
    const t0 = performance.now();
    const e = expectPkiError(() => parseOcspRequest(many), 'malformed-ocsp-request');
    expect(e.message).toMatch(/more than 50/);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(parseOcspRequest(many, { maxCertIds: 1_000 }).certIds).toHaveLength(1_000);
    // With 16-byte serials they exceed 64 KiB and are refused before any decoding.
    const larger = buildOcspRequest(
      Array.from({ length: 1_000 }, () => ({ issuer: issuing, serial: randomSerial() })),
    );
    const big = expectPkiError(
      () => parseOcspRequest(larger, { maxCertIds: 1_000 }),
      'malformed-ocsp-request',
    );
    expect(big.message).toMatch(/exceeds 65536/);
  });

  it('accepts nonces of 1 to 128 bytes (RFC 9654) and refuses empty, longer and unwrapped ones', () => {
    const req = (nonce: Uint8Array) => requestWithExtension(OID_NONCE, seqOctet(nonce));
    expect(parseOcspRequest(req(Uint8Array.of(7))).nonce).toEqual(Uint8Array.of(7));
    expect(parseOcspRequest(req(new Uint8Array(128).fill(1))).nonce).toHaveLength(128);
    expectPkiError(() => parseOcspRequest(req(new Uint8Array(129))), 'ocsp-nonce-too-long');
    expectPkiError(() => parseOcspRequest(req(new Uint8Array(0))), 'malformed-ocsp-request');
    // extnValue must hold an OCTET STRING, not the raw nonce.
    expectPkiError(
      () => parseOcspRequest(requestWithExtension(OID_NONCE, new Uint8Array(16).fill(0x41))),
      'malformed-ocsp-request',
    );
    // An unknown critical extension cannot be honoured; an unknown non-critical one is ignored.
    expectPkiError(
      () => parseOcspRequest(requestWithExtension('1.2.3.4', Uint8Array.of(5, 0), true)),
      'malformed-ocsp-request',
    );
    expect(parseOcspRequest(requestWithExtension('1.2.3.4', Uint8Array.of(5, 0))).nonce).toBeUndefined();
  });

  it('refuses an unknown version, an empty request list and a bad CertID', () => {
    const certId = ocspCertId('sha1', issuerHashes(issuing, 'sha1'), leaves[0].serial).der;
    const list = seq(seq(certId));
    const v2 = Uint8Array.of(0xa0, 3, 2, 1, 1);
    expectPkiError(() => parseOcspRequest(seq(seq(v2, list))), 'malformed-ocsp-request');
    expect(parseOcspRequest(seq(seq(Uint8Array.of(0xa0, 3, 2, 1, 0), list))).certIds).toHaveLength(1);
    expectPkiError(() => parseOcspRequest(seq(seq(seq()))), 'malformed-ocsp-request');
    const shortHash = Uint8Array.from(certId);
    shortHash[certId.indexOf(0x14, 12)] = 0x13;
    expectPkiError(() => parseOcspRequest(seq(seq(seq(seq(shortHash))))), 'malformed-ocsp-request');
  });

  it('either parses or throws PkiError for 2,000 mutations of a valid request', async () => {
    const valid = await opensslRequest('mut.der', ['-cert', file('leaf1.pem'), '-cert', file('leaf2.pem')]);
    let parsed = 0;
    for (let i = 0; i < 2_000; i++)
      if (parsesOrRefuses(() => parseOcspRequest(mutate(valid)), REQUEST_CODES)) parsed++;
    expect(parsed).toBeLessThan(2_000);
  });
});

describe('buildOcspResponse', () => {
  it('answers good, revoked and unknown with the nonce echoed, verified by openssl (-VAfile)', async () => {
    const reqDer = await opensslRequest('three.der', [
      '-cert',
      file('leaf1.pem'),
      '-cert',
      file('leaf2.pem'),
      '-cert',
      file('leaf3.pem'),
    ]);
    const request = parseOcspRequest(reqDer);
    const resp = await buildOcspResponse(answer(request), ecSign);
    const r = await opensslCheck(resp, [
      '-reqin',
      file('three.der'),
      '-issuer',
      file('issuing.pem'),
      '-VAfile',
      file('responder-ec.pem'),
      '-resp_text',
    ]);
    expect(r.out).toContain('Response verify OK');
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/Nonce Verify error|no nonce/i);
    expect(r.out).toContain('OCSP Response Status: successful (0x0)');
    expect(r.out).toContain('Response Type: Basic OCSP Response');
    expect(r.out).toMatch(/Responder Id: [0-9A-F]{40}/);
    expect(r.out).toMatch(/Cert Status: good[\s\S]*Cert Status: revoked[\s\S]*Cert Status: unknown/);
    expect(r.out).toContain('Revocation Time: Mar  4 05:06:07 2026 GMT');
    expect(r.out).toContain('Revocation Reason: keyCompromise (0x1)');
    expect(r.out).toContain('OCSP Nonce');
    for (const leaf of leaves) expect(r.out).toContain(`Serial Number: ${leaf.serialHex}`);

    // openssl does compare the nonce: a response to another request fails.
    const other = await buildOcspResponse(answer({ ...request, nonce: randomBytes(16) }), ecSign);
    const bad = await opensslCheck(other, ['-reqin', file('three.der'), '-VAfile', file('responder-ec.pem')]);
    expect(bad.out).toContain('Nonce Verify error');
    expect(bad.code).not.toBe(0);
  });

  it('answers a -no_nonce request, and openssl prints the status of each certificate', async () => {
    const request = parseOcspRequest(
      await opensslRequest('nononce.der', [
        '-cert',
        file('leaf1.pem'),
        '-cert',
        file('leaf2.pem'),
        '-no_nonce',
      ]),
    );
    const resp = await buildOcspResponse(answer(request), ecSign);
    const r = await opensslCheck(resp, [
      '-issuer',
      file('issuing.pem'),
      '-cert',
      file('leaf1.pem'),
      '-cert',
      file('leaf2.pem'),
      '-no_nonce',
      '-VAfile',
      file('responder-ec.pem'),
    ]);
    expect(r.out).toContain('Response verify OK');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/leaf1\.pem: good/);
    expect(r.out).toMatch(/leaf2\.pem: revoked\s+This Update: .*\s+Next Update: .*\s+Reason: keyCompromise/);
    expect(r.out).toContain('Revocation Time: Mar  4 05:06:07 2026 GMT');
    expect(r.out).not.toMatch(/WARNING|error/i);
  });

  it.each([
    { name: 'ECDSA P-256', alg: 'ECDSA-SHA256' as const, cert: () => ecResponder, key: ecResponderKey },
    { name: 'RSA-PSS', alg: 'RSA-PSS-SHA256' as const, cert: () => rsaResponder, key: rsaResponderKey },
  ])('is accepted from a delegated $name responder found through the chain', async ({ alg, cert, key }) => {
    const request = parseOcspRequest(
      await opensslRequest(`deleg-${alg}.der`, ['-cert', file('leaf1.pem'), '-cert', file('leaf2.pem')]),
    );
    const input = answer(request, {
      responderKeyId: keyIdentifier(cert().publicKey),
      signatureAlgorithm: alg,
      certs: [cert().der],
    });
    const resp = await buildOcspResponse(input, signer(key, alg));
    const r = await opensslCheck(resp, [
      '-reqin',
      file(`deleg-${alg}.der`),
      '-verify_other',
      file('issuing.pem'),
      '-resp_text',
    ]);
    expect(r.out).toContain('Response verify OK');
    expect(r.code, r.out).toBe(0);
    if (alg === 'RSA-PSS-SHA256') expect(r.out).toMatch(/Signature Algorithm: rsassaPss/);
    else expect(r.out).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);

    const parsed = parseOcspResponse(resp);
    expect(parsed.certs).toEqual([cert().der]);
    expect(
      verifySignature(parsed.signatureAlgorithm!, cert().publicKey, parsed.tbs!, parsed.signature!),
    ).toBe(true);
  });

  it('is refused by openssl from a delegated responder without the OCSPSigning EKU, or when altered', async () => {
    const request = parseOcspRequest(await opensslRequest('rogue.der', ['-cert', file('leaf1.pem')]));
    const rogue = await buildOcspResponse(answer(request, { certs: [rogueResponder.der] }), ecSign);
    const r = await opensslCheck(rogue, ['-reqin', file('rogue.der'), '-verify_other', file('issuing.pem')]);
    expect(r.out).not.toContain('Response verify OK');
    expect(r.code).not.toBe(0);

    const altered = await buildOcspResponse(answer(request), ecSign);
    altered[altered.length - ecResponder.der.length - 20] ^= 1;
    const a = await opensslCheck(altered, ['-reqin', file('rogue.der'), '-VAfile', file('responder-ec.pem')]);
    expect(a.out).not.toContain('Response verify OK');
  });

  it('is accepted when the issuing CA signs directly (byKey) and from a byName responder', async () => {
    const request = parseOcspRequest(await opensslRequest('direct.der', ['-cert', file('leaf2.pem')]));
    const direct = await buildOcspResponse(
      answer(request, { responderKeyId: keyIdentifier(issuing.publicKey), certs: undefined }),
      issuingSign,
    );
    const r = await opensslCheck(direct, [
      '-reqin',
      file('direct.der'),
      '-verify_other',
      file('issuing.pem'),
      '-resp_text',
    ]);
    expect(r.out).toContain('Response verify OK');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Cert Status: revoked');

    const byName = await buildOcspResponse(
      answer(request, { responderKeyId: undefined, responderName: ecResponder.subjectDer }),
      ecSign,
    );
    const n = await opensslCheck(byName, [
      '-reqin',
      file('direct.der'),
      '-verify_other',
      file('issuing.pem'),
      '-resp_text',
    ]);
    expect(n.out).toContain('Response verify OK');
    expect(n.out).toContain('Responder Id: C = VN, CN = Kyso OCSP EC');
    expect(parseOcspResponse(byName).responderName).toEqual(ecResponder.subjectDer);
  });

  it('round-trips through parseOcspResponse, with times rounded down to whole seconds', async () => {
    const nonce = randomBytes(128);
    const certId = (leaf: ParsedCertificate) =>
      ocspCertId('sha256', issuerHashes(issuing, 'sha256'), leaf.serial);
    const producedAt = new Date('2026-05-06T07:08:09.999Z');
    const resp = await buildOcspResponse(
      {
        responderKeyId: keyIdentifier(ecResponder.publicKey),
        producedAt,
        nonce,
        signatureAlgorithm: 'ECDSA-SHA256',
        responses: [
          { certId: certId(leaves[0]), status: { status: 'good' }, thisUpdate: producedAt },
          {
            certId: certId(leaves[1]),
            status: { status: 'revoked', revokedAt, reason: 'unspecified' },
            thisUpdate: producedAt,
            nextUpdate: new Date('2026-05-13T07:08:09Z'),
          },
          {
            certId: certId(leaves[2]),
            status: { status: 'revoked', revokedAt, reason: 'certificateHold' },
            thisUpdate: producedAt,
          },
        ],
      },
      ecSign,
    );
    const p = parseOcspResponse(resp);
    const second = new Date('2026-05-06T07:08:09Z');
    expect(p).toMatchObject({ status: 'successful', producedAt: second, certs: [] });
    expect(p.nonce).toEqual(Uint8Array.from(nonce));
    expect(p.responderKeyId).toEqual(keyIdentifier(ecResponder.publicKey));
    expect(p.responses.map(({ certId: _, ...r }) => r)).toEqual([
      { serialHex: leaves[0].serialHex, status: 'good', thisUpdate: second },
      {
        serialHex: leaves[1].serialHex,
        status: 'revoked',
        revokedAt: new Date('2026-03-04T05:06:07Z'),
        thisUpdate: second,
        nextUpdate: new Date('2026-05-13T07:08:09Z'),
      },
      {
        serialHex: leaves[2].serialHex,
        status: 'revoked',
        revokedAt: new Date('2026-03-04T05:06:07Z'),
        reason: 'certificateHold',
        thisUpdate: second,
      },
    ]);
    expect(p.responses[0].certId.der).toEqual(certId(leaves[0]).der);
    expect(verifySignature(p.signatureAlgorithm!, ecResponder.publicKey, p.tbs!, p.signature!)).toBe(true);
  });

  it('refuses bad inputs', async () => {
    const request = { certIds: [ocspCertId('sha1', issuerHashes(issuing, 'sha1'), leaves[0].serial)] };
    const refuse = (change: Partial<OcspResponseInput>, code: string) =>
      expect(buildOcspResponse(answer(request, change), ecSign)).rejects.toMatchObject({ code });
    await refuse({ responderName: issuing.subjectDer }, 'bad-ocsp-response');
    await refuse({ responderKeyId: undefined }, 'bad-ocsp-response');
    await refuse({ responderKeyId: new Uint8Array(32) }, 'bad-ocsp-response');
    await refuse({ responses: [] }, 'bad-ocsp-response');
    await refuse({ nonce: new Uint8Array(129) }, 'bad-ocsp-response');
    await refuse({ certs: [Uint8Array.of(1, 2, 3)] }, 'bad-ocsp-response');
    await refuse({ producedAt: new Date(Number.NaN) }, 'bad-time');
    const one = answer(request).responses[0];
    await refuse(
      { responses: [{ ...one, nextUpdate: new Date(one.thisUpdate.getTime() - 1) }] },
      'bad-validity',
    );
    await refuse(
      { responses: [{ ...one, status: { status: 'revoked', revokedAt, reason: 'removeFromCRL' } }] },
      'bad-reason',
    );
    await refuse(
      { responses: [{ ...one, certId: { ...one.certId, der: Uint8Array.of(4, 0) } }] },
      'bad-ocsp-response',
    );
  });
});

describe('ocspErrorResponse', () => {
  it.each([
    ['malformedRequest', 'malformedrequest (1)'],
    ['internalError', 'internalerror (2)'],
    ['tryLater', 'trylater (3)'],
    ['sigRequired', 'sigrequired (5)'],
    ['unauthorized', 'unauthorized (6)'],
  ] as const)('%s is what openssl reads as "%s"', async (status, text) => {
    const der = ocspErrorResponse(status);
    expect(ocspErrorResponse(status)).toBe(der);
    const r = await opensslCheck(der, ['-resp_text']);
    expect(r.out).toContain(`Responder Error: ${text}`);
    expect(parseOcspResponse(der)).toEqual({ status, responses: [], certs: [] });
  });
});

describe('buildOcspRequest', () => {
  it('makes requests openssl reads, with SHA-1 or SHA-256 CertIDs and a nonce', async () => {
    const nonce = randomBytes(32);
    const der = buildOcspRequest(
      [
        { issuer: issuing, serial: leaves[0].serial },
        { issuer: issuing, serial: leaves[1].serial },
      ],
      { nonce },
    );
    await writeFile(file('ours.der'), der);
    const r = await run('openssl', ['ocsp', '-reqin', file('ours.der'), '-req_text']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Hash Algorithm: sha1');
    expect(r.out).toContain(`Serial Number: ${leaves[0].serialHex}`);
    expect(r.out).toContain(`Serial Number: ${leaves[1].serialHex}`);
    expect(r.out).toContain('OCSP Nonce');
    expect(r.out).toContain(Buffer.from(nonce).toString('hex').toUpperCase().slice(0, 32));
    expect(parseOcspRequest(der).nonce).toEqual(Uint8Array.from(nonce));

    // openssl checks our nonce against our request.
    const resp = await buildOcspResponse(answer(parseOcspRequest(der)), ecSign);
    const v = await opensslCheck(resp, ['-reqin', file('ours.der'), '-VAfile', file('responder-ec.pem')]);
    expect(v.out).toContain('Response verify OK');
    expect(v.code, v.out).toBe(0);

    const sha256 = buildOcspRequest([{ issuer: issuing, serial: leaves[2].serial }], { hash: 'sha256' });
    await writeFile(file('ours256.der'), sha256);
    const s = await run('openssl', ['ocsp', '-reqin', file('ours256.der'), '-req_text']);
    expect(s.out).toContain('Hash Algorithm: sha256');
    expect(s.out).not.toContain('Nonce');
    expect(parseOcspRequest(sha256).certIds[0].issuerKeyHash).toEqual(
      issuerHashes(issuing, 'sha256').keyHash,
    );
  });

  it('refuses an empty list, a bad nonce and a non-minimal serial', () => {
    expectPkiError(() => buildOcspRequest([]), 'bad-ocsp-request');
    expectPkiError(
      () => buildOcspRequest([{ issuer: issuing, serial: leaves[0].serial }], { nonce: new Uint8Array(0) }),
      'bad-ocsp-request',
    );
    expectPkiError(() => buildOcspRequest([{ issuer: issuing, serial: Uint8Array.of(0, 1) }]), 'bad-serial');
  });
});

describe('parseOcspResponse', () => {
  it('reads a response signed by openssl ocsp -index', async () => {
    await opensslRequest('forossl.der', ['-cert', file('leaf1.pem'), '-cert', file('leaf2.pem')]);
    const r = await run('openssl', [
      'ocsp',
      '-index',
      file('index.txt'),
      '-CA',
      file('issuing.pem'),
      '-rsigner',
      file('responder-ec.pem'),
      '-rkey',
      file('responder-ec.key'),
      '-reqin',
      file('forossl.der'),
      '-respout',
      file('ossl-resp.der'),
      '-ndays',
      '1',
    ]);
    expect(r.code, r.out).toBe(0);
    const der = new Uint8Array(await readFile(file('ossl-resp.der')));
    const p = parseOcspResponse(der);
    const request = parseOcspRequest(new Uint8Array(await readFile(file('forossl.der'))));
    expect(p.status).toBe('successful');
    expect(p.nonce).toEqual(request.nonce);
    expect(p.responses.map((x) => [x.serialHex, x.status, x.reason])).toEqual([
      [leaves[0].serialHex, 'good', undefined],
      [leaves[1].serialHex, 'revoked', 'keyCompromise'],
    ]);
    expect(p.responses[1].revokedAt).toEqual(new Date('2026-03-04T05:06:07Z'));
    expect(p.responses[0].certId.der).toEqual(request.certIds[0].der);
    expect(p.certs).toEqual([ecResponder.der]);
    expect(verifySignature(p.signatureAlgorithm!, ecResponder.publicKey, p.tbs!, p.signature!)).toBe(true);
  });

  it('either parses or throws PkiError for truncations and 2,000 mutations of a valid response', async () => {
    const request = parseOcspRequest(await opensslRequest('mutresp.der', ['-cert', file('leaf2.pem')]));
    const valid = await buildOcspResponse(answer(request), ecSign);
    for (let n = 0; n < valid.length; n++)
      expectPkiError(() => parseOcspResponse(valid.subarray(0, n)), 'malformed-ocsp-response');
    for (let i = 0; i < 2_000; i++)
      parsesOrRefuses(() => parseOcspResponse(mutate(valid)), ['malformed-ocsp-response']);
  });
});

describe('throughput (printed, not asserted)', () => {
  it('measures buildOcspResponse with ECDSA P-256 and parseOcspRequest', async () => {
    const reqDer = await opensslRequest('bench.der', ['-cert', file('leaf1.pem')]);
    const request = parseOcspRequest(reqDer);
    const input = answer(request);
    const noSign = async (data: Uint8Array) => data.subarray(0, 72);
    const build = async (n: number, sign: (data: Uint8Array) => Promise<Uint8Array>) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await buildOcspResponse(input, sign);
      return performance.now() - t0;
    };
    await build(5_000, noSign);
    const encodes = 50_000;
    const encodeMs = await build(encodes, noSign);
    await build(500, ecSign);
    const builds = 5_000;
    const buildMs = await build(builds, ecSign);

    const parse = (n: number) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) parseOcspRequest(reqDer);
      return performance.now() - t0;
    };
    parse(50_000);
    const parses = 300_000;
    const parseMs = parse(parses);
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
    console.log(
      `OCSP: buildOcspResponse (ECDSA P-256, one SingleResponse, nonce) ${rate(builds, buildMs)}/s; ` +
        `encoding alone ${rate(encodes, encodeMs)}/s; parseOcspRequest (${reqDer.length} bytes, nonce) ${rate(parses, parseMs)}/s`,
    );
  });
});

// ---------------------------------------------------------------- helpers for hand-made DER

const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const REQUEST_CODES = ['malformed-ocsp-request', 'ocsp-nonce-too-long'];

function tlvHeader(tag: number, length: number): number[] {
  if (length < 0x80) return [tag, length];
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [tag, 0x80 | bytes.length, ...bytes];
}

/** depth SEQUENCEs, each holding the next, with definite lengths. */
function nestedSequences(depth: number): Uint8Array {
  const headers: number[][] = [];
  let length = 0;
  for (let i = 0; i < depth; i++) {
    const h = tlvHeader(0x30, length);
    headers.push(h);
    length += h.length;
  }
  return Uint8Array.from(headers.reverse().flat());
}

function tlvOf(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Uint8Array.from([...tlvHeader(tag, body.length), ...body]);
}

const seq = (...parts: Uint8Array[]) => tlvOf(0x30, ...parts);
const seqOctet = (content: Uint8Array) => tlvOf(0x04, content);

function oidDer(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlvOf(0x06, Uint8Array.from(bytes));
}

/** A one-CertID request for leaf1 with one request extension. */
function requestWithExtension(id: string, value: Uint8Array, critical = false): Uint8Array {
  const certId = ocspCertId('sha1', issuerHashes(issuing, 'sha1'), leaves[0].serial).der;
  const extension = seq(oidDer(id), ...(critical ? [Uint8Array.of(1, 1, 0xff)] : []), tlvOf(0x04, value));
  return seq(seq(seq(seq(certId)), tlvOf(0xa2, seq(extension))));
}

/** A random mutation: flipped, replaced, inserted or deleted bytes, or a changed length byte. */
function mutate(der: Uint8Array): Uint8Array {
  const b = Array.from(der);
  const at = () => Math.floor(Math.random() * b.length);
  for (let k = 1 + Math.floor(Math.random() * 3); k > 0; k--) {
    const op = Math.floor(Math.random() * 5);
    if (op === 0) b[at()] ^= 1 << Math.floor(Math.random() * 8);
    else if (op === 1) b[at()] = Math.floor(Math.random() * 256);
    else if (op === 2) b.splice(at(), 0, Math.floor(Math.random() * 256));
    else if (op === 3) b.splice(at(), 1);
    else b[at()] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff][Math.floor(Math.random() * 8)];
  }
  return Uint8Array.from(b);
}

/** Runs a parser: true when it parses, false when it throws PkiError with one of codes; anything else fails. */
function parsesOrRefuses(parse: () => unknown, codes: string[]): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (!(e instanceof PkiError) || !codes.includes(e.code)) throw e;
    return false;
  }
}
