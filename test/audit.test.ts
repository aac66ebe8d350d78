import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { auditHash, parseCheckpoint, verifyAuditLog } from '../src/auth/index.js';
import { AuditCheckpointSchedule } from '../src/ca/index.js';
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
    const serials: string[] = [];

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
        serials.push(r.serial);
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

    /** Runs `kyso ARGS --data DIR` in this process, on this database; exit status and output. */
    async function cli(
      args: string[],
      env: Record<string, string> = {},
    ): Promise<{ code: number; out: string }> {
      const { main } = await import('../src/cli/main.js');
      const out: string[] = [];
      const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), interactive: false };
      const vars = {
        KYSO_DATABASE_URL: t.config.database.kind === 'postgres' ? t.config.database.url : undefined,
        KYSO_ACTOR: undefined,
        ...env,
      };
      const prev = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
      const set = (v: Record<string, string | undefined>) => {
        for (const [k, x] of Object.entries(v)) {
          if (x === undefined) delete process.env[k];
          else process.env[k] = x;
        }
      };
      set(vars);
      try {
        const code = await main([...args, '--data', t.config.dataDir], io);
        return { code, out: out.join('') };
      } finally {
        set(prev);
      }
    }

    test('the command line reports a damaged log with exit status 1', async () => {
      await sql`update audit_log set action = 'nothing' where seq = 2`.execute(t.ca.store.kysely);
      const r = await cli(['audit', 'verify']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('entry 2 was changed after it was written');
    });

    test('verify --json names the head by its sequence number and hash', async () => {
      const r = await cli(['audit', 'verify', '--json']);
      expect(r.code).toBe(0);
      const last = snapshot[snapshot.length - 1];
      expect(JSON.parse(r.out)).toMatchObject({ ok: true, headSeq: Number(last.seq), headHash: last.hash });
    });

    test('a chain rewritten consistently passes a plain verify but not one against a signed checkpoint', async () => {
      const checkpoint = path.join(tmp.dir, 'checkpoint.json');
      expect((await cli(['audit', 'checkpoint', '--out', checkpoint])).code).toBe(0);
      expect((await cli(['audit', 'verify', '--checkpoint', checkpoint])).code).toBe(0);

      // The intruder changes entry 3 and recomputes every hash after it, and the head.
      const k = t.ca.store.kysely;
      let prevHash = '';
      for (const row of snapshot) {
        const seq = Number(row.seq);
        if (seq < 3) {
          prevHash = row.hash as string;
          continue;
        }
        const entry = {
          seq,
          at: new Date(Number(row.at)),
          actor: seq === 3 ? 'someone-else' : (row.actor as string),
          action: row.action as string,
          target: row.target as string | null,
          details: row.details as string,
          prevHash,
        };
        const hash = auditHash(entry);
        await sql`update audit_log set actor = ${entry.actor}, prev_hash = ${prevHash}, hash = ${hash} where seq = ${seq}`.execute(
          k,
        );
        prevHash = hash;
      }
      await sql`update audit_head set hash = ${prevHash}`.execute(k);
      expect((await verifyAuditLog(t.ca.store)).ok).toBe(true);
      expect((await cli(['audit', 'verify'])).code).toBe(0);

      const r = await cli(['audit', 'verify', '--checkpoint', checkpoint, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).problems.map((p: { problem: string }) => p.problem)).toEqual([
        'checkpoint-rewritten',
      ]);

      // A checkpoint whose signature does not hold is no evidence either way.
      const forged = JSON.parse(readFileSync(checkpoint, 'utf8'));
      forged.hash = prevHash;
      writeFileSync(checkpoint, JSON.stringify(forged));
      const f = await cli(['audit', 'verify', '--checkpoint', checkpoint, '--json']);
      expect(JSON.parse(f.out).problems.map((p: { problem: string }) => p.problem)).toEqual([
        'checkpoint-signature',
      ]);
    });

    test('the server’s checkpoint schedule writes a file when the head moves, which verify accepts', async () => {
      const dir = path.join(tmp.dir, `checkpoints-${db.name}`);
      const schedule = new AuditCheckpointSchedule(t.ca, dir, 60_000);
      const first = await schedule.runOnce();
      expect(first).toBeDefined();
      expect(await schedule.runOnce()).toBeUndefined();
      await t.ca.hold(serials[4], { actor: 'officer-3' });
      const second = await schedule.runOnce();
      expect(readdirSync(dir).sort()).toEqual([path.basename(first!), path.basename(second!)].sort());
      for (const file of [first!, second!]) {
        const checkpoint = parseCheckpoint(readFileSync(file, 'utf8'));
        expect((await verifyAuditLog(t.ca.store, { checkpoint })).ok).toBe(true);
      }
      await t.ca.release(serials[4], { actor: 'officer-3' });
    });

    test('audit log reads the entries by time, actor and action; a command records who ran it', async () => {
      expect((await cli(['cert', 'hold', serials[0], '--actor', 'Nguyễn Thị D'])).code).toBe(0);
      expect((await cli(['cert', 'release', serials[0]], { KYSO_ACTOR: 'Phạm Văn E' })).code).toBe(0);
      expect((await cli(['cert', 'hold', serials[2]])).code).toBe(0);
      const account = `${process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? userInfo().username}@${hostname()}`;

      const log = async (...args: string[]) => {
        const r = await cli(['audit', 'log', '--json', ...args]);
        expect(r.code).toBe(0);
        return JSON.parse(r.out) as { seq: number; actor: string; action: string; target: string }[];
      };
      const all = await log();
      expect(all).toHaveLength(snapshot.length + 3);
      expect(all.slice(-3).map((e) => [e.action, e.actor])).toEqual([
        ['certificate.hold', `Nguyễn Thị D (${account})`],
        ['certificate.release', `Phạm Văn E (${account})`],
        ['certificate.hold', account],
      ]);
      expect((await log('--actor', 'officer-2')).map((e) => e.action)).toEqual([
        'certificate.revoke',
        'certificate.revoke',
      ]);
      expect((await log('--action', 'certificate.hold')).map((e) => e.target)).toEqual([
        serials[0],
        serials[2],
      ]);
      expect((await log('--action', 'certificate.')).map((e) => e.seq)).toEqual(
        all.filter((e) => e.action.startsWith('certificate.')).map((e) => e.seq),
      );
      expect(all.filter((e) => e.action.startsWith('certificate.')).length).toBeLessThan(all.length);
      expect((await log('--since', String(snapshot.length + 2))).map((e) => e.seq)).toEqual([
        snapshot.length + 2,
        snapshot.length + 3,
      ]);
      expect(await log('--since', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
      const text = await cli(['audit', 'log', '--action', 'certificate.release']);
      expect(text.out).toMatch(/^\d+\t\S+Z\tPhạm Văn E \(.+\)\tcertificate\.release\t[0-9A-F]+\n$/);
    });
  });
}
