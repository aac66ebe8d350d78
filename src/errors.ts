/**
 * The base of every error Kyso raises on purpose. `code` is stable and machine-readable: `http/`
 * maps it to an HTTP status and `cli/` to an exit code, each through one table whose default
 * (an error that is not a KysoError) is an internal failure.
 */
export class KysoError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
