import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { changeFeedMigration } from './change-feed-migration.js';
import { StoreError } from './errors.js';
import { searchKey } from './search-key.js';

/** Column types that differ between the two databases. */
export interface Dialect {
  kind: 'sqlite' | 'postgres';
  binary: 'blob' | 'bytea';
  time: 'integer' | 'bigint';
}

/** Versioned migrations; never edit one that has shipped, add the next. */
function migrations(d: Dialect): Record<string, Migration> {
  return {
    '0001-ca-engine': {
      // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('cas')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('parent_id', 'text', (c) => c.references('cas.id'))
          .addColumn('key_ref', 'text', (c) => c.notNull())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('certificate', d.binary, (c) => c.notNull())
          .addColumn('subject_key_id', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', d.time, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('certificates')
          .addColumn('serial', 'text', (c) => c.primaryKey())
          .addColumn('ca_id', 'text', (c) => c.notNull().references('cas.id'))
          .addColumn('profile', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('common_name', 'text', (c) => c.notNull())
          .addColumn('organization', 'text')
          .addColumn('email', 'text')
          .addColumn('not_before', d.time, (c) => c.notNull())
          .addColumn('not_after', d.time, (c) => c.notNull())
          .addColumn('der', d.binary, (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
          .addColumn('key_sha256', 'text', (c) => c.notNull())
          .addColumn('revoked_at', d.time)
          .addColumn('revocation_reason', 'text')
          .addColumn('status_changed_at', d.time, (c) => c.notNull())
          .addColumn('renewed_from', 'text')
          .addColumn('replaced_by', 'text')
          .addColumn('created_at', d.time, (c) => c.notNull())
          .addCheckConstraint('certificates_status', sql`status in ('active', 'hold', 'revoked')`)
          .execute();
        await db.schema
          .createIndex('certificates_ca_status')
          .on('certificates')
          .columns(['ca_id', 'status', 'status_changed_at'])
          .execute();
        await db.schema.createIndex('certificates_email').on('certificates').column('email').execute();
        await db.schema.createIndex('certificates_org').on('certificates').column('organization').execute();
        await db.schema.createIndex('certificates_cn').on('certificates').column('common_name').execute();
        await db.schema.createIndex('certificates_key').on('certificates').column('key_sha256').execute();
        await db.schema
          .createTable('crls')
          .addColumn('ca_id', 'text', (c) => c.notNull().references('cas.id'))
          .addColumn('number', d.time, (c) => c.notNull())
          .addColumn('delta_base', d.time)
          .addColumn('this_update', d.time, (c) => c.notNull())
          .addColumn('next_update', d.time, (c) => c.notNull())
          .addColumn('entries', 'integer', (c) => c.notNull())
          .addColumn('der', d.binary, (c) => c.notNull())
          .addColumn('created_at', d.time, (c) => c.notNull())
          .addPrimaryKeyConstraint('crls_pk', ['ca_id', 'number'])
          .execute();
        await db.schema
          .createTable('audit_log')
          .addColumn('seq', d.time, (c) => c.primaryKey())
          .addColumn('at', d.time, (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', d.time, (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002-ocsp-cache': {
      // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('ocsp_responses')
          .addColumn('cert_id', 'text', (c) => c.primaryKey())
          .addColumn('serial', 'text', (c) => c.notNull())
          .addColumn('der', d.binary, (c) => c.notNull())
          .addColumn('this_update', d.time, (c) => c.notNull())
          .addColumn('next_update', d.time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ocsp_responses_serial').on('ocsp_responses').column('serial').execute();
        await db.schema
          .createIndex('certificates_changed')
          .on('certificates')
          .column('status_changed_at')
          .execute();
      },
    },
    '0003-ocsp-status-version': {
      // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
      async up(db: Kysely<any>) {
        // Every status change counts up; a stored OCSP answer is valid only for the count it was signed at.
        await db.schema
          .alterTable('certificates')
          .addColumn('status_version', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // Stored answers from before could be the stale ones this version guards against: re-sign them.
        await db.deleteFrom('ocsp_responses').execute();
        await db.schema
          .alterTable('ocsp_responses')
          .addColumn('status_version', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0004-search-keys': {
      // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
      async up(db: Kysely<any>) {
        // Byte order on both databases, so a prefix is one index range.
        const text = d.kind === 'postgres' ? sql`text collate "C"` : sql`text`;
        await db.schema.alterTable('certificates').addColumn('search_name', text).execute();
        await db.schema.alterTable('certificates').addColumn('search_org', text).execute();
        for (let after = ''; ; ) {
          const rows: { serial: string; common_name: string; organization: string | null }[] = await db
            .selectFrom('certificates')
            .select(['serial', 'common_name', 'organization'])
            .where('serial', '>', after)
            .orderBy('serial')
            .limit(1000)
            .execute();
          if (rows.length === 0) break;
          for (const r of rows) {
            await db
              .updateTable('certificates')
              .set({
                search_name: searchKey(r.common_name),
                search_org: r.organization === null ? null : searchKey(r.organization),
              })
              .where('serial', '=', r.serial)
              .execute();
          }
          after = rows[rows.length - 1].serial;
        }
        await db.schema
          .createIndex('certificates_search_name')
          .on('certificates')
          .columns(['search_name', 'created_at'])
          .execute();
        await db.schema
          .createIndex('certificates_search_org')
          .on('certificates')
          .column('search_org')
          .execute();
        await db.schema.createIndex('certificates_created').on('certificates').column('created_at').execute();
      },
    },
    '0005-change-feed': changeFeedMigration(d),
  };
}

/** Applies every pending migration; each runs in its own transaction. */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'kyso_migration',
    migrationLockTableName: 'kyso_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(
      'migration-failed',
      `database migration ${failed} failed: ${(error as Error).message ?? error}`,
    );
  }
}
