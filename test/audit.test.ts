import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { verifyAuditLog } from '../src/auth/index.js';
import { initTestCa, opensslCsr, type TestCa, testEnv } from './support/ca.js';
import { describeWith, tempDir, testDatabases, toolMissing } from './support/env.js';

// Tampering is done the way an intruder with database access would: straight SQL, bypassing Kyso.
for (const { db, missing } of testDatabases()) {
  describeWith(missing ?? toolMissing('openssl'), `audit log tamper detection on ${db.name}`, () => {
    let t: TestCa;
    let tmp: ReturnType<typeof tempDir>;
    let drop: () => Promise<void>;
    let snapshot: Record<string, unknown>[];
    let head: Record<string, unknown>;

    beforeAll(async () => {
      tmp = tempDir();
      const e = await testEnv(db, { kind: 'soft' });
      drop = e.drop;
      t = await initTestCa(tmp.dir, e.env);
      const csr = readFileSync(opensslCsr(tmp.dir, 'a', 'ec-p256').csr);
      for (let i = 0; i < 5; i++) {
        const r = await t.ca.issue({
          csr,
          profile: 'individual',
          subject: `C=VN, O=Sở Tài chính, CN=Người ${i}`,
          actor: 'officer-1',
        });
        if (i % 2) await t.ca.revoke(r.serial, { reason: 'affiliationChanged', actor: 'officer-2' });
      }
      snapshot = (
        await sql<Record<string, unknown>>`select * from audit_log order by seq`.execute(t.ca.store.kysely)
      ).rows;
      head = (await sql<Record<string, unknown>>`select * from audit_head`.execute(t.ca.store.kysely))
        .rows[0];
    });
    afterAll(async () => {
      await t?.close();
      await drop?.();
      tmp?.remove();
    });

    // Each case starts from the untouched log.
    beforeEach(async () => {
      const k = t.ca.store.kysely;
      await sql`delete from audit_log`.execute(k);
      await sql`delete from audit_head`.execute(k);
      await k
        .insertInto('audit_log')
        .values(snapshot as never)
        .execute();
      await k
        .insertInto('audit_head')
        .values(head as never)
        .execute();
      expect((await verifyAuditLog(t.ca.store)).ok).toBe(true);
    });

    const problems = async () => (await verifyAuditLog(t.ca.store)).problems.map((p) => p.problem);

    test('an untouched log verifies', async () => {
      const v = await verifyAuditLog(t.ca.store);
      expect(v).toMatchObject({ ok: true, problems: [] });
      expect(v.entries).toBe(snapshot.length);
    });

    test('an edited actor is found', async () => {
      await sql`update audit_log set actor = 'someone-else' where seq = 4`.execute(t.ca.store.kysely);
      expect(await problems()).toEqual(['hash-mismatch']);
    });

    test('edited details, even with a recomputed-looking hash field left alone, are found', async () => {
      await sql`update audit_log set details = replace(details, 'affiliationChanged', 'unspecified') where action = 'certificate.revoke'`.execute(
        t.ca.store.kysely,
      );
      expect(await problems()).toContain('hash-mismatch');
    });

    test('a deleted entry in the middle is found', async () => {
      await sql`delete from audit_log where seq = 3`.execute(t.ca.store.kysely);
      expect(await problems()).toEqual(expect.arrayContaining(['gap', 'broken-link']));
    });

    test('a deleted last entry is found through the chain head', async () => {
      const last = snapshot.length;
      await sql`delete from audit_log where seq = ${last}`.execute(t.ca.store.kysely);
      expect(await problems()).toEqual(['head-mismatch']);
    });

    test('an inserted entry is found', async () => {
      const k = t.ca.store.kysely;
      await sql`update audit_log set seq = seq + 1000 where seq >= 4`.execute(k);
      await sql`update audit_log set seq = seq - 999 where seq >= 1004`.execute(k);
      const forged = { ...snapshot[2], seq: 4, actor: 'intruder', action: 'certificate.issue' };
      await k
        .insertInto('audit_log')
        .values(forged as never)
        .execute();
      expect(await problems()).toContain('broken-link');
    });

    test('the command line reports a damaged log with exit status 1', async () => {
      const { main } = await import('../src/cli/main.js');
      await sql`update audit_log set action = 'nothing' where seq = 2`.execute(t.ca.store.kysely);
      const out: string[] = [];
      const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), interactive: false };
      const prev = process.env.KYSO_DATABASE_URL;
      if (t.config.database.kind === 'postgres') process.env.KYSO_DATABASE_URL = t.config.database.url;
      try {
        expect(await main(['audit', 'verify', '--data', t.config.dataDir], io)).toBe(1);
      } finally {
        if (prev === undefined) delete process.env.KYSO_DATABASE_URL;
        else process.env.KYSO_DATABASE_URL = prev;
      }
      expect(out.join('')).toContain('entry 2 was changed after it was written');
    });
  });
}
