import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from './migrations.js';

/** The channel PostgreSQL notifies when the change feed grows. */
export const CHANGE_FEED_CHANNEL = 'kyso_change_feed';

// Any constant will do: it names the one lock every feed writer takes until its commit.
const FEED_LOCK = 7_250_871_337;

/**
 * The change feed and the leases (migration 0003). Triggers write the feed in the same
 * transaction as the change, so no code path can change a status without it.
 */
export function changeFeedMigration(d: Dialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('change_feed')
        .addColumn('id', d.kind === 'postgres' ? 'bigserial' : 'integer', (c) =>
          d.kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('ca_id', 'text')
        .addColumn('status', 'text')
        .addCheckConstraint('change_feed_kind', sql`kind in ('status', 'ca', 'service')`)
        .execute();
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', d.time, (c) => c.notNull())
        .execute();
      if (d.kind === 'postgres') await postgresTriggers(db);
      else await sqliteTriggers(db);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
async function postgresTriggers(db: Kysely<any>): Promise<void> {
  // A sequence hands out ids at insert, not at commit: without the lock a reader could see id 11
  // committed before id 10 and skip 10 for ever. Status changes are rare enough to take turns.
  await sql`
    CREATE FUNCTION kyso_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(${sql.lit(FEED_LOCK)});
      IF TG_TABLE_NAME = 'certificates' THEN
        INSERT INTO change_feed (kind, subject, ca_id, status) VALUES ('status', NEW.serial, NEW.ca_id, NEW.status);
      ELSIF TG_TABLE_NAME = 'cas' THEN
        INSERT INTO change_feed (kind, subject, ca_id) VALUES ('ca', NEW.id, NEW.id);
      ELSE
        INSERT INTO change_feed (kind, subject) VALUES ('service', NEW.key);
      END IF;
      PERFORM pg_notify(${sql.lit(CHANGE_FEED_CHANNEL)}, '');
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER change_feed_status AFTER UPDATE OF status ON certificates FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION kyso_change_feed()`.execute(db);
  await sql`
    CREATE TRIGGER change_feed_ca AFTER INSERT OR UPDATE ON cas FOR EACH ROW
    EXECUTE FUNCTION kyso_change_feed()`.execute(db);
  await sql`
    CREATE TRIGGER change_feed_service AFTER INSERT OR UPDATE ON settings FOR EACH ROW
    WHEN (NEW.key LIKE 'service.%') EXECUTE FUNCTION kyso_change_feed()`.execute(db);
}

// SQLite has one writer at a time, so AUTOINCREMENT ids are already in commit order.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the current schema
async function sqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TRIGGER change_feed_status AFTER UPDATE OF status ON certificates
    WHEN OLD.status IS NOT NEW.status BEGIN
      INSERT INTO change_feed (kind, subject, ca_id, status) VALUES ('status', NEW.serial, NEW.ca_id, NEW.status);
    END`.execute(db);
  for (const event of ['INSERT', 'UPDATE']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`change_feed_ca_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON cas BEGIN
        INSERT INTO change_feed (kind, subject, ca_id) VALUES ('ca', NEW.id, NEW.id);
      END`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.raw(`change_feed_service_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON settings
      WHEN NEW.key LIKE 'service.%' BEGIN
        INSERT INTO change_feed (kind, subject) VALUES ('service', NEW.key);
      END`.execute(db);
  }
}
