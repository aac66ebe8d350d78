import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CrlSchedule } from '../src/ca/index.js';
import { parseCrl } from '../src/pki/index.js';
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
      // Each full CRL comes with a delta on it at once, so the Freshest-CRL URL never answers 404.
      expect(issued.sort()).toEqual(['issuing:delta:2', 'issuing:full:1', 'root:delta:2', 'root:full:1']);
      await schedule.runOnce(new Date(start + 5 * MINUTE));
      expect(issued).toHaveLength(4);
      await schedule.runOnce(new Date(start + 16 * MINUTE));
      expect(issued.slice(4).sort()).toEqual(['issuing:delta:3', 'root:delta:3']);
      // The delta just made is stamped with the schedule's clock, so a quarter hour has not passed since it.
      await schedule.runOnce(new Date(start + 10 * MINUTE));
      expect(issued).toHaveLength(6);
      await schedule.runOnce(new Date(start + 7 * 60 * MINUTE));
      expect(issued.slice(6).sort()).toEqual([
        'issuing:delta:5',
        'issuing:full:4',
        'root:delta:5',
        'root:full:4',
      ]);
      const latest = await t.ca.store.crls.latest('issuing', 'full');
      expect(latest && latest.nextUpdate.getTime() - latest.thisUpdate.getTime()).toBe(24 * 60 * MINUTE);
      await schedule.stop();
    });

    test('a revocation brings a full CRL that lists it within a minute, by the schedule’s clock', async () => {
      const last = await t.ca.store.crls.latest('issuing', 'full');
      let now = last!.thisUpdate.getTime() + MINUTE;
      const issued: string[] = [];
      const schedule = new CrlSchedule(
        t.ca,
        { issued: (c) => issued.push(`${c.caId}:${c.delta ? 'delta' : 'full'}`) },
        MINUTE,
        { now: () => new Date(now) },
      );
      // The delta that follows a revocation is the server's business; here only the full CRL counts.
      t.ca.onStatusChange((c) => schedule.soon(c.caId, 3_600_000));
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const cert = await t.ca.issueForKey({
        profile: 'individual',
        subject: 'C=VN, O=Sở Tư pháp, CN=Lê Văn C',
        publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
        actor: 'test',
      });
      await t.ca.revoke(cert.serial, { reason: 'keyCompromise', actor: 'test' });
      await schedule.runOnce(new Date(now + 5_000));
      expect(issued).toEqual([]);
      now += 59_000;
      await schedule.runOnce();
      expect(issued).toEqual(['issuing:full', 'issuing:delta']);
      const full = await t.ca.store.crls.latest('issuing', 'full');
      expect(parseCrl(full!.der).entries.map((e) => e.serialHex)).toContain(cert.serial);
      await schedule.stop();
    });
  });
}
