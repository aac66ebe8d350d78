import { KysoError } from '../errors.js';

/** Why a database operation failed. */
export type StoreErrorCode =
  | 'unavailable'
  | 'locked'
  | 'full'
  | 'timeout'
  | 'conflict'
  | 'not-found'
  | 'migration-failed'
  | 'not-initialized';

/** A database failure, with a code callers can map to an exit status or an HTTP status. */
export class StoreError extends KysoError<StoreErrorCode> {
  override readonly name = 'StoreError';
}
