import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, test } from 'vitest';

/** KYSO_TEST_STRICT=1 (CI): a test whose tool or service is missing fails instead of skipping. */
export const STRICT = process.env.KYSO_TEST_STRICT === '1';

/** A describe block that runs only when `missing` is undefined; in strict mode a missing need fails. */
export function describeWith(missing: string | undefined, name: string, body: () => void): void {
  if (missing && STRICT) {
    describe(name, () => {
      test(`needs: ${missing}`, () => {
        throw new Error(`${missing} (KYSO_TEST_STRICT=1)`);
      });
    });
    return;
  }
  describe.skipIf(missing !== undefined)(missing ? `${name} (skipped: ${missing})` : name, body);
}

/** A test that runs only when `missing` is undefined; in strict mode a missing need fails it. */
export function testWith(
  missing: string | undefined,
  name: string,
  body: () => unknown,
  timeout?: number,
): void {
  if (missing && STRICT) {
    test(`${name} (needs: ${missing})`, () => {
      throw new Error(`${missing} (KYSO_TEST_STRICT=1)`);
    });
    return;
  }
  test.skipIf(missing !== undefined)(missing ? `${name} (skipped: ${missing})` : name, body, timeout);
}

/** Why a file the tests need (a font) is absent, or undefined when every one exists. */
export function fileMissing(...files: string[]): string | undefined {
  const absent = files.find((f) => !existsSync(f));
  return absent && `${absent} is missing`;
}

/** Why a command-line tool cannot be used, or undefined when it can. */
export function toolMissing(...tools: string[]): string | undefined {
  for (const tool of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    if (r.status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/** Runs a tool and returns its exit code and output, never throwing on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string | Uint8Array; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    input: opts.input,
    env: opts.env ?? process.env,
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeoutMs,
  });
  return {
    code: r.status ?? -1,
    stdout: r.stdout?.toString('utf8') ?? '',
    stderr: r.stderr?.toString('utf8') ?? '',
  };
}

/**
 * `run` without blocking the event loop: needed when the process being run talks to a server
 * running inside the test process.
 */
export function runAsync(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = 'kyso-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** Undefined for SQLite: the data directory's own file. */
  url?: string;
}

/** The databases the suite runs on: SQLite always, PostgreSQL when KYSO_TEST_DATABASE_URL names a server. */
export function testDatabases(): { db: TestDatabase; missing?: string }[] {
  const url = process.env.KYSO_TEST_DATABASE_URL;
  return [
    { db: { name: 'sqlite' } },
    {
      db: { name: 'postgres', url },
      missing: url ? undefined : 'KYSO_TEST_DATABASE_URL (a PostgreSQL server)',
    },
  ];
}

/** A fresh, empty PostgreSQL database on the test server, dropped by `drop`. */
export async function freshPostgres(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kyso_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const SOFTHSM_MODULE = process.env.KYSO_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

/** Why SoftHSM2 cannot be used, or undefined. */
export function softHsmMissing(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `SoftHSM2 (no PKCS#11 module at ${SOFTHSM_MODULE})`;
  return toolMissing('softhsm2-util');
}

/**
 * A throw-away SoftHSM2 token directory, set as this process's SOFTHSM2_CONF (before the
 * PKCS#11 library loads), with one initialized token.
 */
export function softHsmToken(label = 'kyso-test'): {
  module: string;
  label: string;
  pin: string;
  soPin: string;
  remove(): void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'kyso-softhsm-'));
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = '123456';
  const soPin = '12345678';
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
    { stdio: 'ignore' },
  );
  return {
    module: SOFTHSM_MODULE,
    label,
    pin,
    soPin,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The checkout's root directory. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

function kysoEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KYSO_DATABASE_URL: undefined,
    KYSO_KEY_BACKEND: undefined,
    // Never a developer's ./kyso-data: commands without --data see no CA (and so trust no Kyso root).
    KYSO_DATA: path.join(tmpdir(), 'kyso-test-no-data'),
    KYSO_TRUST_ANCHORS: undefined,
    ...extra,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** The built command line (test/support/build.ts builds it once per test run). */
export const KYSO_CLI = path.join(ROOT, 'dist/cli/run.js');

const KYSO_ARGS = [KYSO_CLI];

/** Runs the `kyso` command line from the built output, as a separate process. */
export function kyso(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Uint8Array; timeoutMs?: number } = {},
) {
  return run(process.execPath, [...KYSO_ARGS, ...args], {
    cwd: ROOT,
    env: kysoEnv(opts.env),
    input: opts.input,
    timeoutMs: opts.timeoutMs,
  });
}

/** `kyso` without blocking the event loop, for talking to a server in the test process. */
export function kysoAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return runAsync(process.execPath, [...KYSO_ARGS, ...args], {
    cwd: ROOT,
    env: kysoEnv(opts.env),
    timeoutMs: opts.timeoutMs,
  });
}
