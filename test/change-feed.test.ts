import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CertificateAuthority, CrlSchedule } from '../src/ca/index.js';
import { type Change, ChangeFeed, Store } from '../src/store/index.js';
import { initTestCa, opensslCsr, type TestCa, testEnv } from './support/ca.js';
import { describeWith, tempDir, testDatabases } from './support/env.js';

// The feed every node follows (issue 9 §5): written by the database in commit order, read by id.
for (const { db, missing } of testDatabases()) {
  describeWith(missing, `the change feed and leases on ${db.name}`, () => {
    let t: TestCa;
    let tmp: ReturnType<typeof tempDir>;
    let drop: () => Promise<void>;
    // Another node's view of the same database.
    let other: Store;
    let csr: Buffer;

    beforeAll(async () => {
      tmp = tempDir();
      const e = await testEnv(db, { kind: 'soft' });
      drop = e.drop;
      t = await initTestCa(tmp.dir, e.env);
      other = await Store.open(t.config.database);
      csr = readFileSync(opensslCsr(tmp.dir, 'feed', 'ec-p256').csr);
    });
    afterAll(async () => {
      await other?.close();
      await t?.close();
      await drop?.();
      tmp?.remove();
    });

    const follow = async (pollMs: number) => {
      const seen: Change[] = [];
      const feed = await ChangeFeed.start(
        other.changeFeed,
        t.config.database,
        { changed: (c) => seen.push(...c) },
        { pollMs },
      );
      return { seen, feed };
    };

    const until = async (check: () => boolean, ms: number) => {
      const started = Date.now();
      while (!check()) {
        if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    test('every status change, new CA and service certificate is an entry, in commit order', async () => {
      // On PostgreSQL NOTIFY wakes the reader: the poll is far too slow to be what hears it.
      const { seen, feed } = await follow(db.name === 'postgres' ? 60_000 : 50);
      const cert = await t.ca.issue({ csr, profile: 'individual', actor: 'test' });
      await t.ca.hold(cert.serial, { actor: 'test' });
      await t.ca.release(cert.serial, { actor: 'test' });
      await t.ca.revoke(cert.serial, { reason: 'keyCompromise', actor: 'test' });
      await t.ca.transaction((tx) => tx.settings.set('service.tsa', 'x'));
      // Not a service certificate: no entry.
      await t.ca.transaction((tx) => tx.settings.set('ca.note', 'x'));
      await until(() => seen.length >= 4, 3000);
      await feed.stop();
      expect(seen.map((c) => (c.kind === 'status' ? `${c.serial}:${c.status}` : `${c.kind}`))).toEqual([
        `${cert.serial}:hold`,
        `${cert.serial}:active`,
        `${cert.serial}:revoked`,
        'service',
      ]);
      expect(seen.every((c, i) => i === 0 || c.id > seen[i - 1].id)).toBe(true);
      expect(seen.find((c) => c.kind === 'status')).toMatchObject({ caId: 'issuing' });
    });

    test('concurrent revocations from several writers are each read exactly once', async () => {
      const { seen, feed } = await follow(20);
      const certs = await Promise.all(
        Array.from({ length: 40 }, () => t.ca.issue({ csr, profile: 'individual', actor: 'test' })),
      );
      // On PostgreSQL two writers (two processes' connections) revoke at once, while the reader
      // keeps reading; SQLite has one writer at a time anyway.
      const second = await CertificateAuthority.open(t.config, { store: other });
      const writers = db.name === 'postgres' ? [t.ca, second] : [t.ca];
      await Promise.all(
        certs.map((c, i) =>
          writers[i % writers.length]
            .revoke(c.serial, { reason: 'keyCompromise', actor: 'test' })
            .then(() => feed.wake()),
        ),
      );
      await second.close();
      await until(() => seen.length >= certs.length, 5000);
      await new Promise((r) => setTimeout(r, 100));
      await feed.stop();
      expect(seen.map((c) => (c.kind === 'status' ? c.serial : '')).sort()).toEqual(
        certs.map((c) => c.serial).sort(),
      );
    });

    test('a lease has one holder until it expires or is released, by the database clock', async () => {
      const leases = t.ca.store.leases;
      expect(await leases.claim('job', 'a', 60_000)).toBe(true);
      expect(await leases.claim('job', 'b', 60_000)).toBe(false);
      expect(await leases.claim('job', 'a', 60_000)).toBe(true);
      await leases.release('job', 'b');
      expect(await leases.claim('job', 'b', 60_000)).toBe(false);
      await leases.release('job', 'a');
      expect(await leases.claim('job', 'b', 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await leases.claim('job', 'a', 60_000)).toBe(true);
      expect(await leases.claim('job', 'b', 60_000)).toBe(false);
    });

    test('of two CRL schedules on one database, only one issues', async () => {
      const issued: string[] = [];
      const second = await CertificateAuthority.open(t.config, { store: other });
      const schedules = [t.ca, second].map(
        (ca, i) => new CrlSchedule(ca, { issued: (c) => issued.push(`${i}:${c.caId}:${c.number}`) }),
      );
      await Promise.all(schedules.map((s) => s.runOnce()));
      // Each CA's full CRL and the delta on it, all from one schedule.
      const first = issued.length;
      expect(first).toBeGreaterThan(0);
      expect(new Set(issued.map((i) => i.split(':')[0])).size).toBe(1);
      // The holder hands over when it stops.
      const holder = Number(issued[0].split(':')[0]);
      await schedules[holder].stop();
      await schedules[1 - holder].runOnce(new Date(Date.now() + 48 * 3_600_000));
      expect(issued.slice(first).every((i) => i.startsWith(`${1 - holder}:`))).toBe(true);
      expect(issued.length).toBeGreaterThan(first);
      await schedules[1 - holder].stop();
      await second.close();
    });
  });
}
