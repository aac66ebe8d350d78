import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { kyso, ROOT } from '../test/support/env.js';
import { freePort } from './ab.js';

/** A server process started by a benchmark, stopped by `stop`. */
export interface ChildServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Runs a command line of the `kyso` CLI from the sources and returns its standard output. */
export function kysoCli(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = kyso(args, { env });
  if (r.code !== 0) throw new Error(`kyso ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * `kyso serve` in a child process of its own (so it does not share the benchmark's CPU time), on
 * a free loopback port; resolves when /readyz answers. An empty data directory gets a demo CA.
 */
export async function startKyso(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/run.ts'), 'serve', '--data', dataDir],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        KYSO_HOST: '127.0.0.1',
        KYSO_PORT: String(port),
        KYSO_PUBLIC_URL: 'http://kyso.bench',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString('utf8');
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(child, `${url}/readyz`, () => log);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

/** The same for any server command that listens on `url`: waits until `probe` answers. */
export async function startChild(
  cmd: string,
  args: string[],
  probe: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildServer> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString('utf8');
  });
  try {
    await waitReady(child, probe, () => log);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { url: new URL(probe).origin, pid: child.pid!, stop: () => stopChild(child) };
}

// A probe counts as an answer whatever its status: some peers answer a bare GET with an error.
async function waitReady(child: ChildProcess, probe: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${probe}: the server exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    try {
      const r = await fetch(probe, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.ok || !probe.endsWith('/readyz')) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${probe}: no answer within 60 s:\n${log()}`);
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
