import { toPem } from '../pki/index.js';
import { writeFileAtomically } from './atomic-file.js';
import { describeError, EXIT, OutputNotWrittenError, UsageError, WriteError } from './errors.js';
import type { Lang } from './messages.js';

/** Where a command writes its results; tests give their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal, so long work may show progress. */
  interactive: boolean;
}

/** A standard stream that ends quietly when its reader goes away (`kyso cert list | head`). */
function streamWriter(stream: NodeJS.WriteStream, name: string): (text: string) => void {
  let gone = false;
  let watching = false;
  return (text) => {
    if (gone) return;
    if (!watching) {
      watching = true;
      stream.on('error', (e: NodeJS.ErrnoException) => {
        gone = true;
        if (e.code === 'EPIPE') return;
        // Any other failure (a full disk behind `> file`) is reported, once, and fails the command.
        process.exitCode = EXIT.failed;
        if (stream !== process.stderr)
          process.stderr.write(`kyso: ${describeError(new WriteError(name, e.code ?? e.message)).line}\n`);
      });
    }
    stream.write(text);
  };
}

export const processIo: Io = {
  out: streamWriter(process.stdout, 'stdout'),
  err: streamWriter(process.stderr, 'stderr'),
  interactive: !!process.stderr.isTTY,
};

/** Writes DER as PEM (or raw DER) to a file, or PEM to stdout. */
export function emit(io: Io, label: string, ders: Uint8Array[], opts: { out?: string; der?: boolean }): void {
  if (opts.der && ders.length !== 1) throw new UsageError('--der writes one object; use PEM for several');
  const data = opts.der ? Buffer.from(ders[0]) : ders.map((d) => toPem(label, d)).join('');
  if (opts.out) writeFileAtomically(opts.out, [data]);
  else if (opts.der) throw new UsageError('--der needs --out FILE');
  else io.out(data as string);
}

/**
 * Runs the writing that follows a committed database change: when it fails, the error says what was
 * stored and the command that fetches it, so the operator does not repeat the change.
 */
export function afterCommit(write: () => void, stored: Record<Lang, string>, fetch: string): void {
  try {
    write();
  } catch (e) {
    if (e instanceof WriteError) throw new OutputNotWrittenError(e, stored, fetch);
    throw e;
  }
}

/** Prints a value as JSON, one document per call. */
export function printJson(io: Io, value: unknown): void {
  io.out(
    `${JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v), 2)}\n`,
  );
}

/** A progress reporter on the terminal, silent elsewhere. */
export function progress(io: Io, what: string): { tick(n: number): void; done(): void } {
  if (!io.interactive) return { tick() {}, done() {} };
  let last = 0;
  return {
    tick(n) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      io.err(`\r${what}: ${n.toLocaleString('en-US')}`);
    },
    done() {
      if (last) io.err('\n');
    },
  };
}
