import { KysoError } from '../errors.js';

/** Why a key operation failed; `http/` and `cli/` map these codes to responses and exit codes. */
export type KeyErrorCode =
  | 'wrong-pin'
  | 'pin-locked'
  | 'wrong-passphrase'
  | 'token-not-found'
  | 'key-not-found'
  | 'key-exists'
  | 'algorithm-mismatch'
  | 'invalid-input'
  | 'unsupported'
  | 'device-error';

/** The one error type every key backend throws. Messages never carry PINs, passphrases or key material. */
export class KeyError extends KysoError<KeyErrorCode> {
  override readonly name = 'KeyError';
}

const PKCS11_CODES: Record<string, KeyErrorCode> = {
  CKR_PIN_INCORRECT: 'wrong-pin',
  CKR_PIN_LOCKED: 'pin-locked',
  CKR_PIN_INVALID: 'invalid-input',
  CKR_PIN_LEN_RANGE: 'invalid-input',
  CKR_PIN_TOO_WEAK: 'invalid-input',
  CKR_TOKEN_NOT_PRESENT: 'token-not-found',
  CKR_TOKEN_NOT_RECOGNIZED: 'token-not-found',
  CKR_SLOT_ID_INVALID: 'token-not-found',
  CKR_MECHANISM_INVALID: 'unsupported',
  CKR_MECHANISM_PARAM_INVALID: 'unsupported',
  CKR_KEY_TYPE_INCONSISTENT: 'unsupported',
  CKR_DOMAIN_PARAMS_INVALID: 'unsupported',
};

/** The CKR_* name of a pkcs11js error, or undefined for anything else. */
export function pkcs11ReturnCode(error: unknown): string | undefined {
  if (error instanceof Error && /^CKR_[A-Z0-9_]+$/.test(error.message)) return error.message;
  return undefined;
}

/** Turns whatever a PKCS#11 call threw into a KeyError that says which operation failed. */
export function fromPkcs11(error: unknown, operation: string): KeyError {
  if (error instanceof KeyError) return error;
  const rv = pkcs11ReturnCode(error);
  const code = (rv && PKCS11_CODES[rv]) || 'device-error';
  return new KeyError(
    code,
    `${operation}: ${rv ?? (error instanceof Error ? error.message : String(error))}`,
    {
      cause: error,
    },
  );
}
