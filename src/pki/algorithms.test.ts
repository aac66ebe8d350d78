import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  defaultSignatureAlgorithm,
  describeKey,
  hashOf,
  keySpecOf,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
  signatureAlgorithmIdentifier,
  verifySignature,
} from './algorithms.js';
import { oid, sequence } from './der.js';
import { PkiError } from './errors.js';
import { keyIdentifier } from './extensions.js';

const spkiOf = (k: { publicKey: KeyObject }) =>
  new Uint8Array(k.publicKey.export({ type: 'spki', format: 'der' }));

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ed25519 = generateKeyPairSync('ed25519');

describe('keys', () => {
  it('describes keys and maps them to Kyso key types', () => {
    expect(describeKey(spkiOf(p256))).toEqual({ kind: 'ec', curve: 'P-256' });
    expect(describeKey(spkiOf(p521))).toEqual({ kind: 'ec', curve: 'P-521' });
    expect(describeKey(spkiOf(rsa2048))).toEqual({ kind: 'rsa', bits: 2048 });
    expect(describeKey(spkiOf(ed25519))).toEqual({ kind: 'other', oid: '1.3.101.112' });
    expect(keySpecOf(spkiOf(p256))).toBe('ec-p256');
    expect(keySpecOf(spkiOf(p384))).toBe('ec-p384');
    expect(keySpecOf(spkiOf(rsa2048))).toBe('rsa-2048');
    expect(keySpecOf(spkiOf(rsa1024))).toBeUndefined();
    expect(keySpecOf(spkiOf(p521))).toBeUndefined();
    expect(keySpecOf(spkiOf(ed25519))).toBeUndefined();
  });

  it('refuses a malformed SubjectPublicKeyInfo', () => {
    expect(() => describeKey(Uint8Array.of(0x30, 0x03, 0x02, 0x01))).toThrow(PkiError);
    expect(() => keyIdentifier(new Uint8Array(10))).toThrow(PkiError);
  });

  it('picks default algorithms', () => {
    expect(defaultSignatureAlgorithm('ec-p256')).toBe('ECDSA-SHA256');
    expect(defaultSignatureAlgorithm('ec-p384')).toBe('ECDSA-SHA384');
    expect(defaultSignatureAlgorithm('rsa-3072')).toBe('RSA-PSS-SHA256');
    expect(defaultSignatureAlgorithm('rsa-3072', 'pkcs1')).toBe('RSA-PKCS1-SHA256');
  });
});

describe('signature algorithms', () => {
  it('writes RSASSA-PSS parameters as OpenSSL does', () => {
    // From `openssl req -x509 -sigopt rsa_padding_mode:pss` with SHA-256 and digest-length salt.
    expect(Buffer.from(signatureAlgorithmIdentifier('RSA-PSS-SHA256')).toString('hex')).toBe(
      '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
    );
    expect(Buffer.from(signatureAlgorithmIdentifier('ECDSA-SHA256')).toString('hex')).toBe(
      '300a06082a8648ce3d040302',
    );
    expect(Buffer.from(signatureAlgorithmIdentifier('RSA-PKCS1-SHA256')).toString('hex')).toBe(
      '300d06092a864886f70d01010b0500',
    );
  });

  const keyFor = (alg: SignatureAlgorithm) => (alg.startsWith('ECDSA') ? p384 : rsa2048);
  it.each(SIGNATURE_ALGORITHMS)('verifies %s, and rejects a changed message', (alg) => {
    const key = keyFor(alg);
    const data = Buffer.from('Kyso ký số');
    const pss = alg.startsWith('RSA-PSS');
    const signature = sign(
      hashOf(alg),
      data,
      pss
        ? {
            key: key.privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          }
        : key.privateKey,
    );
    const id = signatureAlgorithmIdentifier(alg);
    expect(verifySignature(id, spkiOf(key), data, signature)).toBe(true);
    expect(verifySignature(id, spkiOf(key), Buffer.from('Kyso ky so'), signature)).toBe(false);
    expect(verifySignature(id, spkiOf(p256), data, signature)).toBe(false);
    expect(verifySignature(id, spkiOf(key), data, signature.subarray(1))).toBe(false);
  });

  it('refuses algorithms it cannot check', () => {
    const sha1WithRsa = sequence(oid('1.2.840.113549.1.1.5'));
    const pssDefaults = sequence(oid('1.2.840.113549.1.1.10'), sequence());
    for (const id of [sha1WithRsa, pssDefaults, Uint8Array.of(1, 2, 3)]) {
      try {
        verifySignature(id, spkiOf(rsa2048), Buffer.from('x'), Buffer.alloc(256));
        expect.unreachable();
      } catch (e) {
        expect((e as PkiError).code).toBe('unsupported-algorithm');
      }
    }
  });
});
