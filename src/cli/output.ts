import { writeFileSync } from 'node:fs';
import { toPem } from '../pki/index.js';
import { UsageError } from './errors.js';

/** Where a command writes its results; tests give their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal, so long work may show progress. */
  interactive: boolean;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: !!process.stderr.isTTY,
};

/** Writes DER as PEM (or raw DER) to a file, or PEM to stdout. */
export function emit(io: Io, label: string, ders: Uint8Array[], opts: { out?: string; der?: boolean }): void {
  if (opts.der && ders.length !== 1) throw new UsageError('--der writes one object; use PEM for several');
  const data = opts.der ? Buffer.from(ders[0]) : ders.map((d) => toPem(label, d)).join('');
  if (opts.out) writeFileSync(opts.out, data);
  else if (opts.der) throw new UsageError('--der needs --out FILE');
  else io.out(data as string);
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
