import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CrlSchedule } from '../src/ca/index.js';
import { initTestCa, type TestCa, testEnv } from './support/ca.js';
import { describeWith, tempDir, testDatabases } from './support/env.js';

const MINUTE = 60_000;

for (const { db, missing } of testDatabases()) {
  describeWith(missing, `CRL schedule on ${db.name}`, () => {
    let t: TestCa;
    let tmp: ReturnType<typeof tempDir>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      tmp = tempDir();
      mkdirSync(path.join(tmp.dir, 'data'));
      writeFileSync(
        path.join(tmp.dir, 'data', 'kyso.json'),
        JSON.stringify({
          crl: { validityHours: 24, fullIntervalHours: 6, deltaValidityHours: 2, deltaIntervalMinutes: 15 },
        }),
      );
      const e = await testEnv(db, { kind: 'soft' });
      drop = e.drop;
      t = await initTestCa(tmp.dir, e.env);
    });
    afterAll(async () => {
      await t?.close();
      await drop?.();
      tmp?.remove();
    });

    test('issues a full CRL per CA at once, deltas on their interval, and the next full on its own', async () => {
      const issued: string[] = [];
      const schedule = new CrlSchedule(t.ca, {
        issued: (c) => issued.push(`${c.caId}:${c.delta ? 'delta' : 'full'}:${c.number}`),
      });
      const start = Date.now();
      await schedule.runOnce(new Date(start));
      expect(issued.sort()).toEqual(['issuing:full:1', 'root:full:1']);
      await schedule.runOnce(new Date(start + 5 * MINUTE));
      expect(issued).toHaveLength(2);
      await schedule.runOnce(new Date(start + 16 * MINUTE));
      expect(issued.slice(2).sort()).toEqual(['issuing:delta:2', 'root:delta:2']);
      // The delta just made is stamped with the real clock, so a quarter hour has not passed since it.
      await schedule.runOnce(new Date(start + 10 * MINUTE));
      expect(issued).toHaveLength(4);
      await schedule.runOnce(new Date(start + 7 * 60 * MINUTE));
      expect(issued.slice(4).sort()).toEqual(['issuing:full:3', 'root:full:3']);
      const latest = await t.ca.store.crls.latest('issuing', 'full');
      expect(latest && latest.nextUpdate.getTime() - latest.thisUpdate.getTime()).toBe(24 * 60 * MINUTE);
      await schedule.stop();
    });
  });
}
