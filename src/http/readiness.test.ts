import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../store/index.js';
import { checkReadiness } from './readiness.js';

describe('/readyz checks', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kyso-ready-'));
    store = await Store.open({ kind: 'sqlite', file: path.join(dir, 'kyso.db') }, { create: true });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a full disk for a minute after a store failed for it, and the database going away', async () => {
    const at = new Date('2026-12-03T10:00:00Z');
    const full = { code: 'full', message: 'the disk holding the database is full', at };
    const check = (now: Date, fault = full) =>
      checkReadiness({ store, ocspStoreFault: () => fault, databaseDir: dir, now });
    expect(await check(new Date(at.getTime() + 59_000))).toMatchObject({
      ok: false,
      checks: { database: 'ok', storage: expect.stringMatching(/^full/) },
    });
    expect(await check(new Date(at.getTime() + 61_000))).toEqual({
      ok: true,
      checks: { database: 'ok', storage: 'ok' },
    });
    // A lock is passing, not a reason to leave the load balancer.
    expect((await check(at, { ...full, code: 'locked' })).ok).toBe(true);
    const closed = await Store.open({ kind: 'sqlite', file: path.join(dir, 'kyso.db') });
    await closed.close();
    const down = await checkReadiness({ store: closed, ocspStoreFault: () => undefined });
    expect(down.ok).toBe(false);
    expect(down.checks.database).toMatch(/^unavailable/);
  });
});
