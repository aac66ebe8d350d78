import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KYSO_CLI, ROOT, tempDir } from './support/env.js';

// `kyso serve` as `npm start` runs it: a separate process, a demo CA on an empty data directory,
// and a clean stop on SIGTERM.
describe('kyso serve as a process', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  test('makes a labelled demo CA, serves, and stops cleanly on SIGTERM with a request in flight', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KYSO_PORT: '0',
      KYSO_DATA: path.join(tmp.dir, 'data'),
      KYSO_LOG_LEVEL: 'warn',
    };
    delete env.KYSO_DATABASE_URL;
    const child = spawn(process.execPath, [KYSO_CLI, 'serve'], {
      cwd: ROOT,
      env,
    });
    let log = '';
    child.stderr.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in: ${log}`)), 90_000);
      child.stderr.on('data', () => {
        const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    expect(log).toContain('DEMO CA');
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const inFlight = fetch(`${url}/repository/certificates?q=Kyso`).then((r) => r.status);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await inFlight).toBe(200);
    expect(await exited).toBe(0);
    expect(log).toContain('stopped');
  }, 180_000);
});
