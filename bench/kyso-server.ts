import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { kyso, ROOT } from '../test/support/env.js';
import { freePort } from './ab.js';

/** A server process started by a benchmark, stopped by `stop`. */
export interface ChildServer {
  url: string;
  stop(): Promise<void>;
}

// The caller's KYSO_* settings (a PostgreSQL URL, a PKCS#11 backend, a passphrase) are not the benchmark's.
const kysoVars = () => Object.keys(process.env).filter((k) => k.startsWith('KYSO_'));

/** Runs a command line of the `kyso` CLI from the sources and returns its standard output. */
export function kysoCli(args: string[]): string {
  const r = kyso(args, { env: Object.fromEntries(kysoVars().map((k) => [k, undefined])) });
  if (r.code !== 0) throw new Error(`kyso ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * `kyso serve` in a child process of its own (so it does not share the benchmark's CPU time), on
 * a free loopback port; resolves once /readyz says ready. An empty data directory gets a demo CA.
 */
export async function startKyso(dataDir: string): Promise<ChildServer> {
  const port = await freePort();
  const env = { ...process.env };
  for (const k of kysoVars()) delete env[k];
  return startChild(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/run.ts'), 'serve', '--data', dataDir],
    `http://127.0.0.1:${port}/readyz`,
    {
      cwd: ROOT,
      env: { ...env, KYSO_HOST: '127.0.0.1', KYSO_PORT: String(port), KYSO_PUBLIC_URL: 'http://kyso.bench' },
      ready: (status) => status === 200,
    },
  );
}

/**
 * A server command, resolved once `probe` answers: with any status unless `ready` says which (some
 * peers answer a bare GET with an error).
 */
export async function startChild(
  cmd: string,
  args: string[],
  probe: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; ready?: (status: number) => boolean } = {},
): Promise<ChildServer> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString('utf8');
  });
  try {
    await waitReady(child, probe, opts.ready ?? (() => true), () => log);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { url: new URL(probe).origin, stop: () => stopChild(child) };
}

async function waitReady(
  child: ChildProcess,
  probe: string,
  ready: (status: number) => boolean,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${probe}: the server exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    try {
      const r = await fetch(probe, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (ready(r.status)) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${probe}: not ready within 60 s:\n${log()}`);
}

// SIGTERM lets `kyso serve` finish cleanly; a server that hangs is killed after 10 s.
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeIn(dir: string, name: string, text: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
