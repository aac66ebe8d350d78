import { KysoError } from '../errors.js';

/** Why a CA operation was refused. */
export type CaErrorCode =
  | 'already-initialized'
  | 'not-initialized'
  | 'unknown-ca'
  | 'unknown-profile'
  | 'unknown-certificate'
  | 'key-not-allowed'
  | 'bad-subject'
  | 'bad-validity'
  | 'illegal-transition'
  | 'reason-not-allowed'
  | 'expired'
  | 'offline-ca'
  | 'not-offline'
  | 'bad-import'
  | 'no-audit-key';

/** A refused CA operation; `code` says why in a stable, machine-readable way. */
export class CaError extends KysoError<CaErrorCode> {
  override readonly name = 'CaError';
}
