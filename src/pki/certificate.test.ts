import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKey, runTool as run, signFunction as signer, type TestKey } from '../../test/support/keys.js';
import { type KeySpec, type SignatureAlgorithm, verifySignature } from './algorithms.js';
import { buildCertificate, type CertificateTemplate, fingerprint, parseCertificate } from './certificate.js';
import { PkiError } from './errors.js';
import { type Extension, ext, keyIdentifier } from './extensions.js';
import { encodeName, formatName, parseName } from './name.js';
import { OID } from './oids.js';
import { fromPem, toPem } from './pem.js';
import { randomSerial, serialFromHex } from './serial.js';

const YEAR = 365 * 86_400_000;
let dir: string;
const file = (name: string) => join(dir, name);

const rootKey = makeKey('ec-p384');
const rootName = encodeName(parseName('CN=RootCA chuyên dùng Chính phủ G2, O=Ban Cơ yếu Chính phủ, C=VN'));
let rootDer: Uint8Array;

function caExtensions(key: TestKey, issuerKey: TestKey, pathLen?: number): Extension[] {
  return [
    ext.basicConstraints(true, pathLen),
    ext.keyUsage(['keyCertSign', 'cRLSign']),
    ext.subjectKeyIdentifier(keyIdentifier(key.spki)),
    ext.authorityKeyIdentifier(keyIdentifier(issuerKey.spki)),
  ];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kyso-pki-cert-'));
  const now = new Date();
  rootDer = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: rootName,
      subject: rootName,
      notBefore: now,
      notAfter: new Date(now.getTime() + 20 * YEAR),
      publicKey: rootKey.spki,
      signatureAlgorithm: 'ECDSA-SHA384',
      extensions: caExtensions(rootKey, rootKey, 1),
    },
    signer(rootKey, 'ECDSA-SHA384'),
  );
  await writeFile(file('root.pem'), toPem('CERTIFICATE', rootDer));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CASES: { spec: KeySpec; alg: SignatureAlgorithm; openssl: RegExp }[] = [
  { spec: 'ec-p256', alg: 'ECDSA-SHA256', openssl: /ecdsa-with-SHA256/ },
  { spec: 'ec-p384', alg: 'ECDSA-SHA384', openssl: /ecdsa-with-SHA384/ },
  {
    spec: 'rsa-2048',
    alg: 'RSA-PSS-SHA256',
    openssl: /rsassaPss[\s\S]*Hash Algorithm: sha256[\s\S]*Salt Length: 0x20/,
  },
  { spec: 'rsa-2048', alg: 'RSA-PKCS1-SHA256', openssl: /sha256WithRSAEncryption/ },
];

describe.each(CASES)('a $alg chain', ({ spec, alg, openssl }) => {
  const issuingKey = makeKey(spec);
  const leafKey = makeKey(spec);
  const issuingName = encodeName(
    parseName('C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ các cơ quan Nhà nước G2'),
  );
  const tag = alg.toLowerCase();
  let leafDer: Uint8Array;

  beforeAll(async () => {
    const now = new Date();
    const issuingDer = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: parseCertificate(rootDer).subjectDer,
        subject: issuingName,
        notBefore: now,
        notAfter: new Date(now.getTime() + 10 * YEAR),
        publicKey: issuingKey.spki,
        signatureAlgorithm: 'ECDSA-SHA384',
        extensions: caExtensions(issuingKey, rootKey, 0),
      },
      signer(rootKey, 'ECDSA-SHA384'),
    );
    leafDer = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: parseCertificate(issuingDer).subjectDer,
        subject: parseName(
          'C=VN, L=Hà Giang, O=UBND tỉnh Hà Giang, OU=Sở Thông tin và Truyền thông, CN=Nguyễn Văn A, E=nva@hagiang.gov.vn',
        ),
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 3 * YEAR),
        publicKey: leafKey.spki,
        signatureAlgorithm: alg,
        extensions: [
          ext.basicConstraints(false),
          ext.keyUsage(['digitalSignature', 'nonRepudiation']),
          ext.extendedKeyUsage([
            OID.ekuClientAuth,
            OID.ekuEmailProtection,
            OID.ekuDocumentSigning,
            OID.ekuMsDocumentSigning,
          ]),
          ext.subjectKeyIdentifier(keyIdentifier(leafKey.spki)),
          ext.authorityKeyIdentifier(keyIdentifier(issuingKey.spki)),
          ext.authorityInfoAccess({
            ocsp: ['http://ocsp.kyso.test'],
            caIssuers: ['http://ca.kyso.test/issuing.crt'],
          }),
          ext.crlDistributionPoints(['http://ca.kyso.test/issuing.crl']),
          ext.freshestCrl(['http://ca.kyso.test/issuing-delta.crl']),
          ext.certificatePolicies([
            { oid: '1.3.6.1.4.1.59999.1.1', cps: 'https://ca.kyso.test/cps' },
            { oid: OID.anyPolicy },
          ]),
          ext.subjectAltName([
            { type: 'email', value: 'nva@hagiang.gov.vn' },
            { type: 'dns', value: 'nva.hagiang.gov.vn' },
            { type: 'uri', value: 'https://hagiang.gov.vn/nva' },
            { type: 'ip', value: '10.0.0.1' },
            { type: 'ip', value: '2001:db8::1' },
          ]),
        ],
      },
      signer(issuingKey, alg),
    );
    await writeFile(file(`${tag}-issuing.pem`), toPem('CERTIFICATE', issuingDer));
    await writeFile(file(`${tag}-leaf.pem`), toPem('CERTIFICATE', leafDer));
    await writeFile(
      file(`${tag}-chain.pem`),
      [leafDer, issuingDer, rootDer].map((d) => toPem('CERTIFICATE', d)).join(''),
    );
  });

  it('verifies with openssl verify', async () => {
    const r = await run('openssl', [
      'verify',
      '-CAfile',
      file('root.pem'),
      '-untrusted',
      file(`${tag}-issuing.pem`),
      file(`${tag}-leaf.pem`),
    ]);
    expect(r.out).toContain(': OK');
    expect(r.code).toBe(0);
  });

  it('verifies with GnuTLS certtool', async () => {
    const r = await run('certtool', ['--verify-chain', '--infile', file(`${tag}-chain.pem`)]);
    expect(r.out).toContain('Chain verification output: Verified');
    expect(r.code).toBe(0);
  });

  it('shows the Vietnamese subject and the extensions in openssl x509 -text', async () => {
    const r = await run('openssl', [
      'x509',
      '-in',
      file(`${tag}-leaf.pem`),
      '-text',
      '-noout',
      '-nameopt',
      'utf8',
    ]);
    expect(r.code).toBe(0);
    const text = r.out;
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain(
      'Subject: C=VN, L=Hà Giang, O=UBND tỉnh Hà Giang, OU=Sở Thông tin và Truyền thông, CN=Nguyễn Văn A, emailAddress=nva@hagiang.gov.vn',
    );
    expect(text).toContain('Issuer: C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ các cơ quan Nhà nước G2');
    expect(text).toMatch(openssl);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toMatch(
      /Extended Key Usage:\s*\n\s*TLS Web Client Authentication, E-mail Protection, 1\.3\.6\.1\.5\.5\.7\.3\.36, (Microsoft Document Signing|1\.3\.6\.1\.4\.1\.311\.10\.3\.12)/,
    );
    expect(text).toContain('OCSP - URI:http://ocsp.kyso.test');
    expect(text).toContain('CA Issuers - URI:http://ca.kyso.test/issuing.crt');
    expect(text).toMatch(/CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/ca\.kyso\.test\/issuing\.crl/);
    expect(text).toMatch(/Freshest CRL:\s+Full Name:\s+URI:http:\/\/ca\.kyso\.test\/issuing-delta\.crl/);
    expect(text).toMatch(
      /Policy: 1\.3\.6\.1\.4\.1\.59999\.1\.1\s+CPS: https:\/\/ca\.kyso\.test\/cps\s+Policy: X509v3 Any Policy/,
    );
    expect(text).toContain(
      'email:nva@hagiang.gov.vn, DNS:nva.hagiang.gov.vn, URI:https://hagiang.gov.vn/nva, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1',
    );
    const ski = Buffer.from(keyIdentifier(leafKey.spki))
      .toString('hex')
      .toUpperCase()
      .match(/../g)!
      .join(':');
    expect(text).toMatch(new RegExp(`Subject Key Identifier:\\s+${ski}`));
  });

  it('parses back, and its signature verifies with the issuing key', async () => {
    const c = parseCertificate(leafDer);
    expect(formatName(c.subject)).toBe(
      'C=VN, L=Hà Giang, O=UBND tỉnh Hà Giang, OU=Sở Thông tin và Truyền thông, CN=Nguyễn Văn A, E=nva@hagiang.gov.vn',
    );
    expect(c.isCa).toBe(false);
    expect(c.emails).toEqual(['nva@hagiang.gov.vn']);
    expect(c.subjectKeyId).toEqual(keyIdentifier(leafKey.spki));
    expect(c.authorityKeyId).toEqual(keyIdentifier(issuingKey.spki));
    expect(c.publicKey).toEqual(leafKey.spki);
    expect(c.extensions).toHaveLength(10);
    expect(verifySignature(c.signatureAlgorithm, issuingKey.spki, c.tbs, c.signature)).toBe(true);
    expect(verifySignature(c.signatureAlgorithm, leafKey.spki, c.tbs, c.signature)).toBe(false);
    const serial = await run('openssl', [
      'x509',
      '-in',
      file(`${tag}-leaf.pem`),
      '-noout',
      '-serial',
      '-fingerprint',
      '-sha256',
    ]);
    expect(serial.out).toContain(`serial=${c.serialHex}`);
    expect(serial.out).toContain(`Fingerprint=${fingerprint(leafDer)}`);
  });
});

describe('buildCertificate', () => {
  const key = makeKey('ec-p256');
  const base = (): CertificateTemplate => ({
    serial: serialFromHex('8F01'),
    issuer: rootName,
    subject: [{ type: 'CN', value: 'x' }],
    notBefore: new Date('2030-01-01T00:00:00.900Z'),
    notAfter: new Date('2051-01-01T00:00:00Z'),
    publicKey: key.spki,
    signatureAlgorithm: 'ECDSA-SHA384',
    extensions: [],
  });

  it('uses GeneralizedTime from 2050, whole seconds, a subject DER as given, and no extensions field when empty', async () => {
    const subject = encodeName(parseName('/C=VN/CN=Thiết bị ký số'));
    const der = await buildCertificate({ ...base(), subject }, signer(rootKey, 'ECDSA-SHA384'));
    const c = parseCertificate(der);
    expect(c.notBefore.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(c.notAfter.toISOString()).toBe('2051-01-01T00:00:00.000Z');
    expect(c.subjectDer).toEqual(subject);
    expect(c.issuerDer).toEqual(rootName);
    expect(c.serialHex).toBe('8F01');
    expect(c.extensions).toEqual([]);
    await writeFile(file('future.pem'), toPem('CERTIFICATE', der));
    const text = (await run('openssl', ['x509', '-in', file('future.pem'), '-noout', '-text'])).out;
    expect(text).toContain('Not After : Jan  1 00:00:00 2051 GMT');
    expect(text).toContain('Serial Number: 36609 (0x8f01)');
  });

  it.each([
    ['notAfter before notBefore', { notAfter: new Date('2029-01-01') }, 'bad-validity'],
    ['a zero serial', { serial: Uint8Array.of(0) }, 'bad-serial'],
    ['a 21-byte serial', { serial: new Uint8Array(21).fill(0x7f) }, 'bad-serial'],
    ['a bad public key', { publicKey: Uint8Array.of(0x30, 0) }, 'malformed-key'],
    ['an issuer that is not a Name', { issuer: Uint8Array.of(1, 2, 3) }, 'bad-name'],
    ['a duplicate extension', { extensions: [ext.ocspNoCheck(), ext.ocspNoCheck()] }, 'bad-extension'],
  ] as [string, Partial<CertificateTemplate>, string][])('refuses %s', async (_what, change, code) => {
    await expect(
      buildCertificate({ ...base(), ...change }, signer(rootKey, 'ECDSA-SHA384')),
    ).rejects.toMatchObject({ code });
  });

  it('refuses bad extension input', () => {
    expect(() => ext.subjectAltName([{ type: 'dns', value: 'hà nội.vn' }])).toThrow(PkiError);
    expect(() => ext.subjectAltName([{ type: 'email', value: 'no-at-sign' }])).toThrow(PkiError);
    expect(() => ext.subjectAltName([{ type: 'ip', value: '1.2.3.256' }])).toThrow(PkiError);
    expect(() => ext.subjectAltName([{ type: 'ip', value: '1::2::3' }])).toThrow(PkiError);
    expect(() => ext.basicConstraints(false, 1)).toThrow(PkiError);
    expect(() => ext.keyUsage([])).toThrow(PkiError);
  });

  it('encodes key usage bits minimally, including decipherOnly', () => {
    expect(Buffer.from(ext.keyUsage(['digitalSignature']).value).toString('hex')).toBe('03020780');
    expect(Buffer.from(ext.keyUsage(['keyCertSign', 'cRLSign']).value).toString('hex')).toBe('03020106');
    expect(Buffer.from(ext.keyUsage(['keyAgreement', 'decipherOnly']).value).toString('hex')).toBe(
      '0303070880',
    );
  });
});

describe('parseCertificate', () => {
  it('reads a certificate made by openssl req -x509 with RSA-PSS', async () => {
    const r = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('ossl.key'),
      '-out',
      file('ossl.pem'),
      '-utf8',
      '-subj',
      '/C=VN/O=Bộ Tài chính/CN=Cục Thuế',
      '-sha256',
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      'rsa_pss_saltlen:digest',
      '-days',
      '30',
    ]);
    expect(r.code).toBe(0);
    const [der] = fromPem(await readFile(file('ossl.pem'), 'utf8'), 'CERTIFICATE');
    const c = parseCertificate(der);
    expect(formatName(c.subject)).toBe('C=VN, O=Bộ Tài chính, CN=Cục Thuế');
    expect(c.isCa).toBe(true);
    expect(c.subjectKeyId).toBeDefined();
    expect(verifySignature(c.signatureAlgorithm, c.publicKey, c.tbs, c.signature)).toBe(true);
    expect(fingerprint(der, 'sha1')).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
  });

  it('refuses truncated, garbage and oversized input', () => {
    const expectCode = (input: Uint8Array, code: string, max?: number) => {
      try {
        parseCertificate(input, max);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(PkiError);
        expect((e as PkiError).code).toBe(code);
      }
    };
    expectCode(rootDer.subarray(0, rootDer.length - 1), 'malformed-certificate');
    expectCode(rootDer.subarray(0, 100), 'malformed-certificate');
    expectCode(Uint8Array.from(Buffer.from('not a certificate at all')), 'malformed-certificate');
    expectCode(new Uint8Array(0), 'malformed-certificate');
    const trailing = new Uint8Array(rootDer.length + 1);
    trailing.set(rootDer);
    expectCode(trailing, 'malformed-certificate');
    expectCode(rootDer, 'too-large', 100);
  });
});
