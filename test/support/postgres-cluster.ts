import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './server.js';

const BIN = process.env.KYSO_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why a throw-away PostgreSQL cluster cannot be made here, or undefined. */
export function clusterMissing(): string | undefined {
  return existsSync(path.join(BIN, 'initdb'))
    ? undefined
    : `PostgreSQL server binaries (no initdb in ${BIN})`;
}

/**
 * A PostgreSQL cluster of this test's own on a free port, which the test may stop and start (never
 * the machine's shared server). PostgreSQL refuses to run as root: then it runs as `postgres`.
 */
export async function throwawayCluster(): Promise<{
  url: string;
  stop(): void;
  start(): void;
  remove(): void;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kyso-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args], { stdio: 'pipe' })
      : execFileSync(path.join(BIN, tool), args, { stdio: 'pipe' });
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    remove() {
      try {
        stop();
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
