import type { CaErrorCode } from '../ca/index.js';
import { KysoError } from '../errors.js';
import type { KeyErrorCode } from '../keys/index.js';
import type { PdfErrorCode } from '../pdf/index.js';
import type { StoreErrorCode } from '../store/index.js';
import type { AuthErrorCode } from './api/index.js';

/** Every typed error code and the HTTP status it answers with; `Record` keeps each family exhaustive. */
const CA: Record<CaErrorCode, number> = {
  'already-initialized': 409,
  'not-initialized': 503,
  'unknown-ca': 404,
  'unknown-profile': 400,
  'unknown-certificate': 404,
  'key-not-allowed': 400,
  'bad-subject': 400,
  'bad-validity': 400,
  'illegal-transition': 409,
  'reason-not-allowed': 403,
  expired: 409,
  'offline-ca': 503,
  'not-offline': 409,
  'bad-import': 400,
  'no-audit-key': 503,
};

const STORE: Record<StoreErrorCode, number> = {
  unavailable: 503,
  locked: 503,
  full: 503,
  timeout: 503,
  conflict: 409,
  'not-found': 404,
  'migration-failed': 503,
  'not-initialized': 503,
};

// A signing key that cannot be used is the server's fault, and usually passes (a token re-inserted).
const KEY: Record<KeyErrorCode, number> = {
  'wrong-pin': 503,
  'pin-locked': 503,
  'wrong-passphrase': 503,
  'token-not-found': 503,
  'key-not-found': 503,
  'device-error': 503,
  'key-exists': 409,
  'algorithm-mismatch': 500,
  'invalid-input': 400,
  unsupported: 400,
};

const PDF: Record<PdfErrorCode, number> = {
  'too-large': 413,
  limit: 413,
  syntax: 400,
  'bad-xref': 400,
  'bad-object': 400,
  'bad-stream': 400,
  'unsupported-filter': 400,
  unsupported: 400,
  encrypted: 400,
  cycle: 400,
  'bad-structure': 400,
  'bad-input': 400,
  'field-exists': 409,
  'no-placeholder': 400,
  'contents-too-small': 400,
  'certificate-key-mismatch': 400,
  'bad-signature-value': 400,
  'bad-timestamp': 400,
  'anchor-not-found': 400,
};

// Out of scope is 404: the caller must not learn that the object exists.
const AUTH: Record<AuthErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  'out-of-scope': 404,
  csrf: 403,
  'bad-credentials': 401,
  'totp-required': 401,
  'locked-out': 429,
  throttled: 429,
  disabled: 403,
  'session-expired': 401,
  'same-approver': 409,
};

const BY_NAME: Record<string, Record<string, number>> = {
  CaError: CA,
  StoreError: STORE,
  KeyError: KEY,
  PdfError: PDF,
  AuthError: AUTH,
  InvalidRequestError: { 'invalid-request': 400 },
};

/**
 * The HTTP status for an error. Kyso's typed errors go by their code; a PkiError is always a
 * refused input (400); a configuration error, any unknown code and anything that is not a
 * KysoError (a driver's or a bug's) is 500.
 */
export function httpStatusOf(error: unknown): number {
  if (!(error instanceof KysoError)) return 500;
  if (error.name === 'PkiError') return 400;
  return BY_NAME[error.name]?.[error.code] ?? 500;
}
