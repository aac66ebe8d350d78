import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Store } from '../src/store/index.js';
import { initTestCa, opensslCsr, type TestCa, testEnv } from './support/ca.js';
import { describeWith, tempDir, testDatabases, toolMissing } from './support/env.js';

for (const { db, missing } of testDatabases()) {
  describeWith(missing ?? toolMissing('openssl'), `search keys on ${db.name}`, () => {
    let t: TestCa;
    let tmp: ReturnType<typeof tempDir>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      tmp = tempDir();
      const e = await testEnv(db, { kind: 'soft' });
      drop = e.drop;
      t = await initTestCa(tmp.dir, e.env);
    });
    afterAll(async () => {
      await t?.close();
      await drop?.();
      tmp?.remove();
    });

    test('the migration fills the search keys of certificates issued before it', async () => {
      const csr = readFileSync(
        opensslCsr(tmp.dir, 'old', 'ec-p256', '/C=VN/O=Sở Tư pháp/CN=Đặng Thị Đào').csr,
      );
      const { serial } = await t.ca.issue({ csr, profile: 'individual', actor: 'test' });
      // Back to the schema before migration 0004 (and so before 0005, the change feed), with the
      // certificate already in it.
      const k = t.ca.store.kysely;
      if (db.name === 'postgres') await sql`drop function kyso_change_feed() cascade`.execute(k);
      else {
        const triggers = await sql<{ name: string }>`
          select name from sqlite_master where type = 'trigger' and name like 'change_feed%'`.execute(k);
        for (const { name } of triggers.rows) await sql`drop trigger ${sql.id(name)}`.execute(k);
      }
      await k.schema.dropTable('change_feed').execute();
      await k.schema.dropTable('leases').execute();
      await sql`delete from kyso_migration where name = '0005-change-feed'`.execute(k);
      for (const index of ['certificates_search_name', 'certificates_search_org', 'certificates_created'])
        await k.schema.dropIndex(index).execute();
      await k.schema.alterTable('certificates').dropColumn('search_name').execute();
      await k.schema.alterTable('certificates').dropColumn('search_org').execute();
      await sql`delete from kyso_migration where name = '0004-search-keys'`.execute(k);
      await t.ca.close();

      const store = await Store.open(t.config.database);
      try {
        expect((await store.certificates.search({ text: 'dang thi dao' })).map((c) => c.serial)).toEqual([
          serial,
        ]);
        expect(
          (await store.certificates.search({ organization: 'SO TU PHAP' })).map((c) => c.serial),
        ).toContain(serial);
      } finally {
        await store.close();
      }
    });
  });
}
