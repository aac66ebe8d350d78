import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KeySpec } from '../pki/algorithms.js';
import { KeyError } from './errors.js';

const CURVES: Record<string, { spec: KeySpec; jwk: string; oid: string; size: number }> = {
  prime256v1: { spec: 'ec-p256', jwk: 'P-256', oid: '06082a8648ce3d030107', size: 32 },
  secp384r1: { spec: 'ec-p384', jwk: 'P-384', oid: '06052b81040022', size: 48 },
};

/** The key spec of a public or private key, or 'unsupported' for anything Kyso does not issue. */
export function specOf(key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVES[details?.namedCurve ?? ''];
    if (curve) return curve.spec;
  } else if (key.asymmetricKeyType === 'rsa' && details?.publicExponent === 65537n) {
    const spec = `rsa-${details.modulusLength}`;
    if (spec === 'rsa-2048' || spec === 'rsa-3072' || spec === 'rsa-4096') return spec;
  }
  throw new KeyError(
    'unsupported',
    `key type ${key.asymmetricKeyType} ${JSON.stringify(details)} is not supported`,
  );
}

/** The OpenSSL name, DER-encoded OID (CKA_EC_PARAMS) and coordinate size of an EC spec's curve. */
export function curveOf(spec: KeySpec): { name: string; params: Buffer; size: number } {
  const entry = Object.entries(CURVES).find(([, c]) => c.spec === spec);
  if (!entry) throw new KeyError('unsupported', `${spec} is not an EC key spec`);
  return { name: entry[0], params: Buffer.from(entry[1].oid, 'hex'), size: entry[1].size };
}

/** SPKI DER of an EC public key given CKA_EC_PARAMS and CKA_EC_POINT (raw or OCTET STRING-wrapped). */
export function spkiFromEcPoint(params: Buffer, point: Buffer): Buffer {
  const curve = Object.values(CURVES).find((c) => Buffer.from(c.oid, 'hex').equals(params));
  if (!curve)
    throw new KeyError('unsupported', `EC parameters ${params.toString('hex')} are not a supported curve`);
  const raw = unwrapPoint(point, curve.size);
  const x = raw.subarray(1, 1 + curve.size);
  const y = raw.subarray(1 + curve.size);
  const jwk = { kty: 'EC', crv: curve.jwk, x: x.toString('base64url'), y: y.toString('base64url') };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

/** SPKI DER of an RSA public key given CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
export function spkiFromRsa(modulus: Buffer, exponent: Buffer): Buffer {
  const jwk = {
    kty: 'RSA',
    n: stripZeros(modulus).toString('base64url'),
    e: stripZeros(exponent).toString('base64url'),
  };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

// PKCS#11 says CKA_EC_POINT is DER OCTET STRING; some tokens give the bare uncompressed point instead.
function unwrapPoint(point: Buffer, size: number): Buffer {
  const length = 1 + 2 * size;
  if (point.length === length && point[0] === 0x04) return point;
  // Supported curves keep the OCTET STRING length in one byte.
  if (point.length === 2 + length && point[0] === 0x04 && point[1] === length) return point.subarray(2);
  throw new KeyError('unsupported', 'CKA_EC_POINT is not an uncompressed point of the expected size');
}

function stripZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}
