import { constants, createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool as run } from '../../test/support/keys.js';
import { hashOf, type SignatureAlgorithm } from './algorithms.js';
import { buildCertificate } from './certificate.js';
import {
  buildSignedData,
  CMS_OID,
  parseSignedData,
  type SignedDataInput,
  signingCertificateV2,
  verifySigner,
} from './cms.js';
import {
  children,
  contentOf,
  decodeDer,
  explicit,
  integer,
  octetString,
  oid,
  readOid,
  sequence,
  setOf,
  TAG,
  tlv,
  utf8String,
} from './der.js';
import { PkiError } from './errors.js';
import { ext, keyIdentifier } from './extensions.js';
import { encodeName, parseName } from './name.js';
import { OID } from './oids.js';
import { toPem } from './pem.js';
import { randomSerial } from './serial.js';

interface Signer {
  alg: SignatureAlgorithm;
  privateKey: KeyObject;
  cert: Uint8Array;
}

async function selfSigned(kind: 'ec' | 'rsa', alg: SignatureAlgorithm, cn: string): Promise<Signer> {
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
  const name = encodeName(parseName(`C=VN, O=Kyso thử nghiệm, CN=${cn}`));
  const now = Date.now();
  const cert = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 86_400_000),
      publicKey: spki,
      signatureAlgorithm: alg,
      extensions: [
        ext.basicConstraints(false),
        ext.keyUsage(['digitalSignature', 'nonRepudiation']),
        ext.subjectKeyIdentifier(keyIdentifier(spki)),
      ],
    },
    signFor(pair.privateKey, alg),
  );
  return { alg, privateKey: pair.privateKey, cert };
}

function signFor(privateKey: KeyObject, alg: SignatureAlgorithm) {
  const options = alg.startsWith('RSA-PSS')
    ? {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }
    : privateKey;
  return async (data: Uint8Array) => new Uint8Array(sign(hashOf(alg), data, options));
}

const content = new Uint8Array(randomBytes(2000));
let dir: string;
const file = (name: string) => join(dir, name);
let ec: Signer;
let pss: Signer;
let pkcs1: Signer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kyso-pki-cms-'));
  ec = await selfSigned('ec', 'ECDSA-SHA256', 'EC signer');
  pss = await selfSigned('rsa', 'RSA-PSS-SHA384', 'PSS signer');
  pkcs1 = await selfSigned('rsa', 'RSA-PKCS1-SHA512', 'PKCS1 signer');
  await writeFile(file('content.bin'), content);
  for (const [name, s] of [
    ['ec', ec],
    ['pss', pss],
    ['pkcs1', pkcs1],
  ] as const) {
    await writeFile(file(`${name}.pem`), toPem('CERTIFICATE', s.cert));
    await writeFile(file(`${name}.key`), s.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function input(s: Signer, change: Partial<SignedDataInput> = {}): SignedDataInput {
  return {
    contentType: CMS_OID.data,
    content,
    signedAttributes: [signingCertificateV2(s.cert)],
    certificates: [s.cert],
    signer: { certificate: s.cert, signatureAlgorithm: s.alg, sign: signFor(s.privateKey, s.alg) },
    ...change,
  };
}

async function opensslVerify(der: Uint8Array, cert: string, extra: string[] = []) {
  await writeFile(file('sig.der'), der);
  return run('openssl', [
    'cms',
    '-verify',
    '-inform',
    'DER',
    '-in',
    file('sig.der'),
    '-binary',
    '-CAfile',
    file(cert),
    '-purpose',
    'any',
    '-out',
    file('out.bin'),
    ...extra,
  ]);
}

describe('buildSignedData', () => {
  it.each(['ec', 'pss', 'pkcs1'])(
    'encapsulates content that openssl cms verifies and returns: %s',
    async (name) => {
      const s = { ec, pss, pkcs1 }[name as 'ec' | 'pss' | 'pkcs1'];
      const der = await buildSignedData(input(s));
      const r = await opensslVerify(der, `${name}.pem`);
      expect(r.out).toContain('Verification successful');
      expect(await readFile(file('out.bin'))).toEqual(Buffer.from(content));
      const sd = parseSignedData(der);
      expect(sd.contentType).toBe(CMS_OID.data);
      expect(sd.signers[0].digestAlgorithm).toBe(hashOf(s.alg));
      expect(verifySigner(sd, sd.signers[0])).toEqual({ ok: true, signerCertificate: s.cert });
    },
  );

  it('writes rsaEncryption for PKCS#1 v1.5 signers, as OpenSSL does', async () => {
    const sd = parseSignedData(await buildSignedData(input(pkcs1)));
    const alg = sd.signers[0].signatureAlgorithm;
    const [id] = children(alg, decodeDer(alg, alg.length));
    expect(readOid(contentOf(alg, id))).toBe(OID.rsaEncryption);
  });

  it('sorts signed attributes as a DER SET OF and signs that SET', async () => {
    const extra = {
      oid: '1.2.840.113549.1.9.5',
      values: [Uint8Array.of(0x17, 0x0d, ...Buffer.from('260101000000Z'))],
    };
    const der = await buildSignedData(
      input(ec, { signedAttributes: [extra, signingCertificateV2(ec.cert)] }),
    );
    const signer = parseSignedData(der).signers[0];
    const set = signer.signedAttrs!;
    const items = children(set, decodeDer(set, set.length)).map((t) =>
      Buffer.from(set.subarray(t.start, t.end)),
    );
    expect(items).toEqual([...items].sort(Buffer.compare));
    expect(Buffer.from(setOf(items))).toEqual(Buffer.from(set));
    expect([...signer.attributes.keys()].sort()).toEqual(
      [CMS_OID.contentType, CMS_OID.messageDigest, CMS_OID.signingCertificateV2, extra.oid].sort(),
    );
  });

  it('carries unsigned attributes, CRLs and several certificates', async () => {
    const crl = sequence(sequence(), sequence(), Uint8Array.of(3, 1, 0));
    const unsigned = { oid: '1.2.3.4.5', values: [utf8String('b'), utf8String('a')] };
    const der = await buildSignedData(
      input(ec, { certificates: [ec.cert, pss.cert], crls: [crl], unsignedAttributes: [unsigned] }),
    );
    const sd = parseSignedData(der);
    expect(sd.certificates.map((c) => Buffer.from(c)).sort(Buffer.compare)).toEqual(
      [ec.cert, pss.cert].map((c) => Buffer.from(c)).sort(Buffer.compare),
    );
    expect(sd.crls).toEqual([crl]);
    expect(sd.signers[0].unsignedAttributes.get('1.2.3.4.5')).toEqual([utf8String('a'), utf8String('b')]);
    expect(verifySigner(sd, sd.signers[0]).ok).toBe(true);
  });

  it('writes ESSCertIDv2 with hashAlgorithm only when it is not SHA-256', () => {
    const algorithmInside = (hash: 'sha256' | 'sha384') =>
      Buffer.from(signingCertificateV2(ec.cert, hash).values[0]).includes(Buffer.from(oid(OID[hash])));
    expect(algorithmInside('sha256')).toBe(false);
    expect(algorithmInside('sha384')).toBe(true);
  });

  it('refuses inputs it cannot encode faithfully', async () => {
    const digest = createHash('sha256').update(content).digest();
    for (const change of [
      { content: undefined },
      { contentDigest: digest },
      { content: undefined, contentDigest: digest.subarray(1) },
      { signedAttributes: [{ oid: CMS_OID.messageDigest, values: [octetString(digest)] }] },
      { signedAttributes: [signingCertificateV2(ec.cert), signingCertificateV2(ec.cert)] },
      { signedAttributes: [{ oid: '1.2.3', values: [] }] },
      { signedAttributes: [{ oid: '1.2.3', values: [Uint8Array.of(4, 5, 1)] }] },
    ] as Partial<SignedDataInput>[])
      await expect(buildSignedData(input(ec, change))).rejects.toMatchObject({ code: 'bad-cms-input' });
    const signer = { ...input(ec).signer, certificate: Uint8Array.of(0x30, 0) };
    await expect(buildSignedData(input(ec, { signer }))).rejects.toMatchObject({
      code: 'malformed-certificate',
    });
  });
});

describe('verifySigner', () => {
  it('fails another content, another certificate in ESS, and a missing certificate', async () => {
    const detached = await buildSignedData(
      input(ec, { content: undefined, contentDigest: createHash('sha256').update(content).digest() }),
    );
    const sd = parseSignedData(detached);
    expect(verifySigner(sd, sd.signers[0])).toMatchObject({ ok: false, reason: 'content missing' });
    expect(verifySigner(sd, sd.signers[0], { content: content.subarray(1) }).reason).toBe(
      'messageDigest does not match the content',
    );
    const wrongEss = parseSignedData(
      await buildSignedData(input(ec, { signedAttributes: [signingCertificateV2(pss.cert)] })),
    );
    expect(verifySigner(wrongEss, wrongEss.signers[0]).reason).toBe(
      'signing-certificate attribute names another certificate',
    );
    const bare = parseSignedData(await buildSignedData(input(ec, { certificates: [] })));
    expect(verifySigner(bare, bare.signers[0]).reason).toBe('signer certificate not found');
    expect(verifySigner(bare, bare.signers[0], { certificates: [pss.cert, ec.cert] }).ok).toBe(true);
  });

  it.each([
    ['default attributes', []],
    ['a subjectKeyIdentifier signer', ['-keyid']],
    ['no signed attributes', ['-noattr']],
  ])('checks what openssl cms -sign makes with %s', async (_, args) => {
    const r = await run('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-in',
      file('content.bin'),
      '-signer',
      file('ec.pem'),
      '-inkey',
      file('ec.key'),
      '-outform',
      'DER',
      '-nodetach',
      '-out',
      file('openssl.p7'),
      ...args,
    ]);
    expect(r.code, r.out).toBe(0);
    const sd = parseSignedData(new Uint8Array(await readFile(file('openssl.p7'))));
    const [signer] = sd.signers;
    expect(Buffer.from(sd.content!)).toEqual(Buffer.from(content));
    expect(signer.sidKeyId !== undefined).toBe(args.includes('-keyid'));
    expect(signer.signedAttrs === undefined).toBe(args.includes('-noattr'));
    expect(verifySigner(sd, signer)).toMatchObject({ ok: true });
    expect(verifySigner(sd, signer, { content: content.subarray(1) }).ok).toBe(false);
  });
});

describe('parseSignedData', () => {
  it('refuses truncations, trailing bytes, floods and mutations with PkiError', async () => {
    const der = await buildSignedData(input(ec));
    for (let n = 0; n < der.length; n += 7)
      expect(() => parseSignedData(der.subarray(0, n))).toThrow(
        expect.objectContaining({ code: 'malformed-cms' }),
      );
    expect(() => parseSignedData(Uint8Array.from([...der, 0]))).toThrow(PkiError);
    expect(() => parseSignedData(der, 100)).toThrow(expect.objectContaining({ code: 'too-large' }));
    const flood = tlv(
      TAG.set,
      new Uint8Array(2 * 5000).map((_, i) => (i % 2 ? 0 : TAG.sequence)),
    );
    const floodSd = sequence(oid(CMS_OID.signedData), explicit(0, sequence(integer(1), flood)));
    expect(() => parseSignedData(floodSd)).toThrow(/more than 16 elements/);
    for (let n = 0; n < 3000; n++) {
      const m = Uint8Array.from(der);
      for (let k = 0; k < 1 + (n % 3); k++) m[(Math.random() * m.length) | 0] = (Math.random() * 256) | 0;
      try {
        const sd = parseSignedData(m);
        for (const s of sd.signers) verifySigner(sd, s);
      } catch (e) {
        expect(e).toBeInstanceOf(PkiError);
      }
    }
  });
});
