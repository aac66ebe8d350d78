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
