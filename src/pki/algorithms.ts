import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import {
  bytesOf,
  children,
  contentOf,
  DER_NULL,
  decodeDer,
  expectTag,
  explicit,
  integer,
  oid,
  readBitString,
  readInteger,
  readOid,
  readSmallInt,
  sequence,
  TAG,
  type Tlv,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import { OID } from './oids.js';

/** Key types Kyso generates and accepts (TT 15/2025: RSA >= 2048, ECDSA >= 256). */
export type KeySpec = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export type HashName = 'sha256' | 'sha384' | 'sha512';

/** Signature algorithms: RSASSA-PSS is what TT 15/2025 requires; PKCS#1 v1.5 stays for compatibility. */
export type SignatureAlgorithm =
  | 'ECDSA-SHA256'
  | 'ECDSA-SHA384'
  | 'ECDSA-SHA512'
  | 'RSA-PSS-SHA256'
  | 'RSA-PSS-SHA384'
  | 'RSA-PSS-SHA512'
  | 'RSA-PKCS1-SHA256'
  | 'RSA-PKCS1-SHA384'
  | 'RSA-PKCS1-SHA512';

export const KEY_SPECS: readonly KeySpec[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  'ECDSA-SHA256',
  'ECDSA-SHA384',
  'ECDSA-SHA512',
  'RSA-PSS-SHA256',
  'RSA-PSS-SHA384',
  'RSA-PSS-SHA512',
  'RSA-PKCS1-SHA256',
  'RSA-PKCS1-SHA384',
  'RSA-PKCS1-SHA512',
];

/** The hash a signature algorithm uses. */
export function hashOf(algorithm: SignatureAlgorithm): HashName {
  return `sha${algorithm.slice(-3)}` as HashName;
}

/** Whether a signature algorithm fits a key type. */
export function algorithmFitsKey(algorithm: SignatureAlgorithm, spec: KeySpec): boolean {
  return algorithm.startsWith('ECDSA') ? spec.startsWith('ec-') : spec.startsWith('rsa-');
}

/** What a SubjectPublicKeyInfo holds. */
export type KeyDescription =
  | { kind: 'ec'; curve: string }
  | { kind: 'rsa'; bits: number }
  | { kind: 'other'; oid: string };

const MAX_SPKI_BYTES = 64 * 1024;

/** The parts of a SubjectPublicKeyInfo: algorithm OID, its parameters (if any) and the key bits. */
interface SpkiParts {
  algorithm: string;
  parameters?: Uint8Array;
  key: Uint8Array;
}

/** Splits a SubjectPublicKeyInfo DER; PkiError('malformed-key') when it is not one. */
export function readSpki(spki: Uint8Array): SpkiParts {
  return withCode('malformed-key', 'SubjectPublicKeyInfo', () => {
    const top = decodeDer(spki, MAX_SPKI_BYTES);
    const [algId, bits, extra] = children(spki, expectTag(top, TAG.sequence, 'SubjectPublicKeyInfo'));
    const [alg, params, more] = children(spki, expectTag(algId, TAG.sequence, 'algorithm'));
    if (extra || more) throw new PkiError('malformed-key', 'SubjectPublicKeyInfo: unexpected fields');
    const { unusedBits, bytes } = readBitString(
      contentOf(spki, expectTag(bits, TAG.bitString, 'subjectPublicKey')),
    );
    if (unusedBits !== 0) throw new PkiError('malformed-key', 'SubjectPublicKeyInfo: partial byte in key');
    return {
      algorithm: readOid(contentOf(spki, expectTag(alg, TAG.oid, 'algorithm'))),
      parameters: params ? bytesOf(spki, params) : undefined,
      key: bytes,
    };
  });
}

const CURVES: Record<string, string> = { [OID.p256]: 'P-256', [OID.p384]: 'P-384', [OID.p521]: 'P-521' };

/** Describes the key in a SubjectPublicKeyInfo DER. */
export function describeKey(spki: Uint8Array): KeyDescription {
  const { algorithm, parameters, key } = readSpki(spki);
  return withCode('malformed-key', 'public key', () => {
    if (algorithm === OID.ecPublicKey) {
      if (!parameters || parameters[0] !== TAG.oid) return { kind: 'other', oid: algorithm };
      const curve = readOid(contentOf(parameters, decodeDer(parameters, 64)));
      return { kind: 'ec', curve: CURVES[curve] ?? curve };
    }
    if (algorithm === OID.rsaEncryption || algorithm === OID.rsassaPss) {
      const [modulus] = children(
        key,
        expectTag(decodeDer(key, MAX_SPKI_BYTES), TAG.sequence, 'RSAPublicKey'),
      );
      const n = contentOf(key, expectTag(modulus, TAG.integer, 'modulus'));
      if (readInteger(n) <= 0n) throw new PkiError('malformed-key', 'RSA modulus is not positive');
      let i = 0;
      while (n[i] === 0) i++;
      return { kind: 'rsa', bits: (n.length - i) * 8 - Math.clz32(n[i]) + 24 };
    }
    return { kind: 'other', oid: algorithm };
  });
}

/** The Kyso key type of a SubjectPublicKeyInfo, or undefined when it is not one Kyso accepts. */
export function keySpecOf(spki: Uint8Array): KeySpec | undefined {
  const d = describeKey(spki);
  if (d.kind === 'ec') return d.curve === 'P-256' ? 'ec-p256' : d.curve === 'P-384' ? 'ec-p384' : undefined;
  if (d.kind === 'rsa') return KEY_SPECS.find((s) => s === `rsa-${d.bits}`);
  return undefined;
}

/** The signature algorithm Kyso uses by default for a key type. */
export function defaultSignatureAlgorithm(
  spec: KeySpec,
  rsaPadding: 'pss' | 'pkcs1' = 'pss',
): SignatureAlgorithm {
  if (spec === 'ec-p256') return 'ECDSA-SHA256';
  if (spec === 'ec-p384') return 'ECDSA-SHA384';
  return rsaPadding === 'pss' ? 'RSA-PSS-SHA256' : 'RSA-PKCS1-SHA256';
}

const HASH_OIDS: Record<string, string> = {
  sha224: OID.sha224,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};
const HASH_BY_OID: Record<string, string> = Object.fromEntries(
  Object.entries(HASH_OIDS).map(([k, v]) => [v, k]),
);
const HASH_BYTES: Record<string, number> = { sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

const SIMPLE_ALGORITHMS: Record<string, { kind: 'ecdsa' | 'rsa-pkcs1' | 'dsa'; hash: string }> = {
  [OID.ecdsaWithSha224]: { kind: 'ecdsa', hash: 'sha224' },
  [OID.ecdsaWithSha256]: { kind: 'ecdsa', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { kind: 'ecdsa', hash: 'sha384' },
  [OID.ecdsaWithSha512]: { kind: 'ecdsa', hash: 'sha512' },
  [OID.sha224WithRsa]: { kind: 'rsa-pkcs1', hash: 'sha224' },
  [OID.sha256WithRsa]: { kind: 'rsa-pkcs1', hash: 'sha256' },
  [OID.sha384WithRsa]: { kind: 'rsa-pkcs1', hash: 'sha384' },
  [OID.sha512WithRsa]: { kind: 'rsa-pkcs1', hash: 'sha512' },
  [OID.dsaWithSha224]: { kind: 'dsa', hash: 'sha224' },
  [OID.dsaWithSha256]: { kind: 'dsa', hash: 'sha256' },
};

// SHA-1 signatures, checked only when the caller accepts them (old certificates, test suites).
const SHA1_ALGORITHMS: Record<string, { kind: 'ecdsa' | 'rsa-pkcs1' | 'dsa'; hash: string }> = {
  [OID.sha1WithRsa]: { kind: 'rsa-pkcs1', hash: 'sha1' },
  [OID.ecdsaWithSha1]: { kind: 'ecdsa', hash: 'sha1' },
  [OID.dsaWithSha1]: { kind: 'dsa', hash: 'sha1' },
};

/** What a signature check accepts beyond the default. */
export interface SignatureCheckOptions {
  /** Accept SHA-1 based signatures. */
  allowSha1?: boolean;
}

const hashAlgorithmIdentifier = (hash: HashName) => sequence(oid(HASH_OIDS[hash]), DER_NULL);

const algorithmIdentifiers = new Map<SignatureAlgorithm, Uint8Array>();

/** The AlgorithmIdentifier DER for a signature algorithm (RSA-PSS with explicit, RFC 4055 parameters). */
export function signatureAlgorithmIdentifier(alg: SignatureAlgorithm): Uint8Array {
  let der = algorithmIdentifiers.get(alg);
  if (der) return der;
  const hash = hashOf(alg);
  if (!SIGNATURE_ALGORITHMS.includes(alg))
    throw new PkiError('unsupported-algorithm', `unknown algorithm ${alg}`);
  if (alg.startsWith('ECDSA')) {
    // RFC 5758: ECDSA identifiers carry no parameters.
    der = sequence(oid(OID[`ecdsaWith${hash.replace('s', 'S')}` as 'ecdsaWithSha256']));
  } else if (alg.startsWith('RSA-PKCS1')) {
    der = sequence(oid(OID[`${hash}WithRsa` as 'sha256WithRsa']), DER_NULL);
  } else {
    der = sequence(
      oid(OID.rsassaPss),
      sequence(
        explicit(0, hashAlgorithmIdentifier(hash)),
        explicit(1, sequence(oid(OID.mgf1), hashAlgorithmIdentifier(hash))),
        explicit(2, integer(HASH_BYTES[hash])),
      ),
    );
  }
  algorithmIdentifiers.set(alg, der);
  return der;
}

interface VerifyParams {
  kind: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss' | 'dsa';
  hash: string;
  saltLength?: number;
}

function unsupported(message: string): never {
  throw new PkiError('unsupported-algorithm', message);
}

/** Reads a hash AlgorithmIdentifier whose parameters are absent or NULL. */
function readHashAlgorithm(buf: Uint8Array, t: Tlv): string {
  const [id, params, extra] = children(buf, expectTag(t, TAG.sequence, 'hash algorithm'));
  const hash = HASH_BY_OID[readOid(contentOf(buf, expectTag(id, TAG.oid, 'hash algorithm')))];
  if (!hash) unsupported('unsupported hash algorithm');
  if (extra || (params && (params.tag !== TAG.null || params.end !== params.body)))
    unsupported('bad hash parameters');
  return hash;
}

/** Interprets a signature AlgorithmIdentifier, including RSASSA-PSS parameters. */
function readSignatureAlgorithm(der: Uint8Array, options: SignatureCheckOptions = {}): VerifyParams {
  return withCode('unsupported-algorithm', 'signature algorithm', () => {
    const [id, params, extra] = children(
      der,
      expectTag(decodeDer(der, 1024), TAG.sequence, 'AlgorithmIdentifier'),
    );
    const algorithm = readOid(contentOf(der, expectTag(id, TAG.oid, 'algorithm')));
    if (extra) unsupported('unexpected fields in AlgorithmIdentifier');
    const simple =
      SIMPLE_ALGORITHMS[algorithm] ?? (options.allowSha1 ? SHA1_ALGORITHMS[algorithm] : undefined);
    if (simple) {
      if (params && !(simple.kind === 'rsa-pkcs1' && params.tag === TAG.null && params.end === params.body))
        unsupported(`unexpected parameters for ${algorithm}`);
      return simple;
    }
    if (algorithm !== OID.rsassaPss) unsupported(`unsupported signature algorithm ${algorithm}`);
    if (!params) unsupported('RSASSA-PSS without parameters');
    // Defaults (SHA-1, MGF1-SHA-1, salt 20) are refused: SHA-1 is not accepted.
    let hash = 'sha1';
    let mgfHash = 'sha1';
    let saltLength = 20;
    for (const field of children(der, expectTag(params, TAG.sequence, 'RSASSA-PSS-params'))) {
      const [inner, more] = children(der, field);
      if (!inner || more) unsupported('bad RSASSA-PSS-params');
      if (field.tag === 0xa0) hash = readHashAlgorithm(der, inner);
      else if (field.tag === 0xa1) {
        const [mgf, mgfParams, rest] = children(der, expectTag(inner, TAG.sequence, 'mask generation'));
        if (
          readOid(contentOf(der, expectTag(mgf, TAG.oid, 'mask generation'))) !== OID.mgf1 ||
          !mgfParams ||
          rest
        )
          unsupported('unsupported mask generation function');
        mgfHash = readHashAlgorithm(der, mgfParams);
      } else if (field.tag === 0xa2)
        saltLength = readSmallInt(contentOf(der, expectTag(inner, TAG.integer, 'salt')));
      else if (field.tag === 0xa3) {
        if (readSmallInt(contentOf(der, expectTag(inner, TAG.integer, 'trailer'))) !== 1)
          unsupported('bad trailer');
      } else unsupported('bad RSASSA-PSS-params');
    }
    if (hash === 'sha1') unsupported('RSASSA-PSS with SHA-1');
    // node:crypto uses the signature hash for MGF1 as well.
    if (mgfHash !== hash) unsupported('RSASSA-PSS with a different MGF1 hash');
    return { kind: 'rsa-pss', hash, saltLength };
  });
}

const JWK_CURVES: Record<string, string> = { [OID.p256]: 'P-256', [OID.p384]: 'P-384', [OID.p521]: 'P-521' };
const COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/**
 * Loads a public key for node:crypto. EC and RSA keys go through JWK, which OpenSSL 3 loads
 * about twice as fast as SPKI DER (its decoder framework is slow); others through DER.
 */
function publicKeyObject(spki: Uint8Array): KeyObject {
  try {
    const { algorithm, parameters, key } = readSpki(spki);
    if (algorithm === OID.ecPublicKey && parameters?.[0] === TAG.oid) {
      const crv = JWK_CURVES[readOid(contentOf(parameters, decodeDer(parameters, 64)))];
      const size = crv && COORDINATE_BYTES[crv];
      if (size && key.length === 1 + 2 * size && key[0] === 0x04) {
        const b = Buffer.from(key.buffer, key.byteOffset, key.length);
        const x = b.subarray(1, 1 + size).toString('base64url');
        const y = b.subarray(1 + size).toString('base64url');
        return createPublicKey({ key: { kty: 'EC', crv, x, y }, format: 'jwk' });
      }
    }
    if (algorithm === OID.rsaEncryption) {
      const [modulus, exponent] = children(
        key,
        expectTag(decodeDer(key, MAX_SPKI_BYTES), TAG.sequence, 'RSAPublicKey'),
      );
      const unsigned = (t: Tlv) => {
        const v = contentOf(key, expectTag(t, TAG.integer, 'RSA integer'));
        let i = 0;
        while (i < v.length - 1 && v[i] === 0) i++;
        return Buffer.from(v.buffer, v.byteOffset + i, v.length - i).toString('base64url');
      };
      return createPublicKey({
        key: { kty: 'RSA', n: unsigned(modulus), e: unsigned(exponent) },
        format: 'jwk',
      });
    }
    return createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.length),
      format: 'der',
      type: 'spki',
    });
  } catch {
    throw new PkiError('unsupported-key', 'public key cannot be loaded');
  }
}

/** What node:crypto needs to check one signature, or undefined when the key cannot match the algorithm. */
function verification(algorithmIdentifier: Uint8Array, spki: Uint8Array, accept?: SignatureCheckOptions) {
  const alg = readSignatureAlgorithm(algorithmIdentifier, accept);
  const key = publicKeyObject(spki);
  const type = key.asymmetricKeyType;
  const fits =
    alg.kind === 'ecdsa'
      ? type === 'ec'
      : alg.kind === 'dsa'
        ? type === 'dsa'
        : type === 'rsa' || type === 'rsa-pss';
  if (!fits) return undefined;
  const options =
    alg.kind === 'rsa-pss'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength }
      : key;
  return { hash: alg.hash, options };
}

/** Verifies a signature with node:crypto: false for a bad signature, PkiError for what it cannot check. */
export function verifySignature(
  algorithmIdentifier: Uint8Array,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  options?: SignatureCheckOptions,
): boolean {
  const v = verification(algorithmIdentifier, spki, options);
  if (!v) return false;
  try {
    return cryptoVerify(v.hash, data, v.options, signature);
  } catch {
    return false;
  }
}

/** verifySignature on libuv's thread pool, so a busy CA checks signatures on its other cores. */
export function verifySignatureAsync(
  algorithmIdentifier: Uint8Array,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const v = verification(algorithmIdentifier, spki);
  if (!v) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      cryptoVerify(v.hash, data, v.options, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
