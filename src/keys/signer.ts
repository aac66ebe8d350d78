import { constants, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { hashOf, type KeySpec, type SignatureAlgorithm } from '../pki/algorithms.js';
import { KeyError } from './errors.js';

/** A private key that can sign, and the public key that verifies it. */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo, DER. */
  readonly publicKey: Uint8Array;
  /** Signs `data`, hashing it per `algorithm`. ECDSA gives a DER Ecdsa-Sig-Value, RSA the raw signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A freshly generated key pair: its reference, public key (SPKI DER) and type. */
export interface GeneratedKey {
  ref: string;
  publicKey: Uint8Array;
  spec: KeySpec;
}

/** Where private keys live: encrypted files (soft) or a PKCS#11 token. */
export interface KeyBackend {
  readonly kind: 'soft' | 'pkcs11';
  /** Generates a key pair under a label unique within the backend. */
  generateKey(label: string, spec: KeySpec): Promise<GeneratedKey>;
  /** A signer for a stored key; the algorithm must fit the key type. */
  signer(ref: string, algorithm: SignatureAlgorithm): Promise<Signer>;
  /** The public key (SPKI DER) of a stored key. */
  publicKey(ref: string): Promise<Uint8Array>;
  /** Releases sessions and in-memory keys; signers made by this backend stop working. */
  close(): Promise<void>;
}

const LABEL = /^[A-Za-z0-9._-]{1,64}$/;

/** Rejects labels that are not safe as a file name and a CKA_LABEL. */
export function checkLabel(label: string): void {
  if (!LABEL.test(label)) throw new KeyError('invalid-input', `key label must match ${LABEL.source}`);
}

/** The label inside a `<kind>:<label>` reference; a reference of another backend is not found here. */
export function labelOf(ref: string, kind: KeyBackend['kind']): string {
  const prefix = `${kind}:`;
  const label = ref.startsWith(prefix) ? ref.slice(prefix.length) : '';
  if (!LABEL.test(label))
    throw new KeyError('key-not-found', `no ${kind} key with reference ${JSON.stringify(ref)}`);
  return label;
}

/** Bytes in each hash output; RSA-PSS uses it as the salt length. */
export const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * node:crypto's sign options for a key under an algorithm: DER ECDSA, RSA-PSS with a salt as long as
 * the hash, or PKCS#1 v1.5. Built once per signer, since signing is on hot paths.
 */
export function signOptions(key: KeyObject, algorithm: SignatureAlgorithm): SignKeyObjectInput {
  if (algorithm.startsWith('ECDSA')) return { key, dsaEncoding: 'der' };
  if (algorithm.startsWith('RSA-PSS'))
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hashOf(algorithm)] };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}
