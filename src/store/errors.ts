/** A database failure, with a code callers can map to an exit status or an HTTP status. */
export class StoreError extends Error {
  constructor(
    readonly code:
      | 'unavailable'
      | 'locked'
      | 'conflict'
      | 'not-found'
      | 'migration-failed'
      | 'not-initialized',
    message: string,
  ) {
    super(message);
  }
}
