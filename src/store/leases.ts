import { type Kysely, sql } from 'kysely';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';

/**
 * Named leases: one holder at a time runs a job (the CRL schedule) among several nodes on one
 * database. Expiry is measured by the database's clock, so a node's skewed clock cannot make
 * two holders.
 */
export class LeaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect['kind'],
  ) {}

  /**
   * Takes the lease for `ttlMs`, or extends it when `holder` already has it. False when
   * another holder's lease has not expired.
   */
  async claim(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const row = await sql<{ holder: string }>`
      INSERT INTO leases (name, holder, expires_at) VALUES (${name}, ${holder}, ${now} + ${Math.ceil(ttlMs)})
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE leases.holder = excluded.holder OR leases.expires_at <= ${now}
      RETURNING holder`.execute(this.db);
    return row.rows.length === 1;
  }

  /** Gives the lease up, if `holder` has it, so another node can take it at once. */
  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  // The database's time in epoch milliseconds.
  private now() {
    return this.dialect === 'postgres'
      ? sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : sql`cast(unixepoch('subsec') * 1000 as integer)`;
  }
}
