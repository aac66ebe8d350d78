/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** How an error leaves the command line: one line and an exit status. */
export function describeError(e: unknown): { line: string; exitCode: number } {
  if (e instanceof UsageError) return { line: `${e.message} (see kyso --help)`, exitCode: 2 };
  const err = e as { name?: string; code?: unknown; message?: string };
  if (err && typeof err.message === 'string' && typeof err.code === 'string' && err.constructor !== Error) {
    return { line: err.message.split('\n')[0], exitCode: 1 };
  }
  if (err && typeof err.message === 'string' && (err as NodeJS.ErrnoException).syscall) {
    return { line: err.message.split('\n')[0], exitCode: 1 };
  }
  return {
    line: `internal error: ${err?.message?.split('\n')[0] ?? String(e)} (set KYSO_DEBUG=1 for details)`,
    exitCode: 1,
  };
}
