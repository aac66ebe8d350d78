import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { DatabaseConfig } from '../config.js';
import { StoreError } from './errors.js';
import { type Dialect, migrate } from './migrations.js';
import type { Database } from './schema.js';

// int8 columns hold epoch milliseconds, well inside a double's exact range.
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
}

/** Opens (and, with `create`, creates) the database and applies pending migrations. */
export async function openDatabase(
  config: DatabaseConfig,
  options: { create: boolean },
): Promise<OpenedDatabase> {
  if (config.kind === 'sqlite') {
    if (!existsSync(config.file)) {
      if (!options.create) {
        throw new StoreError(
          'not-initialized',
          `no Kyso database at ${config.file}: run \`kyso init\` first`,
        );
      }
      mkdirSync(path.dirname(config.file), { recursive: true, mode: 0o700 });
      // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(config.file, 'a', 0o600));
    }
    let sqlite: SQLite.Database;
    try {
      sqlite = new SQLite(config.file, { timeout: 5000 });
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
    } catch (e) {
      throw translateError(e);
    }
    const dialect: Dialect = { kind: 'sqlite', binary: 'blob', time: 'integer' };
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await migrate(db, dialect).catch(async (e) => {
      await db.destroy();
      throw translateError(e);
    });
    return { db, dialect };
  }
  const pool = new pg.Pool({ connectionString: config.url, max: 8, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {
    // An idle client lost its connection; the next query reports it.
  });
  const dialect: Dialect = { kind: 'postgres', binary: 'bytea', time: 'bigint' };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  await migrate(db, dialect).catch(async (e) => {
    await db.destroy();
    throw translateError(e);
  });
  return { db, dialect };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; SQLite's prepare costs as much as a small insert. Keep
 * the most recently used statements (Kysely runs one query at a time per connection, so a
 * cached statement is never in use twice).
 */
function withStatementCache(sqlite: SQLite.Database): Pick<SQLite.Database, 'prepare' | 'close'> {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(source: string) {
      let stmt = cache.get(source);
      if (stmt) {
        cache.delete(source);
      } else {
        stmt = sqlite.prepare(source);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(source, stmt);
      return stmt;
    },
    close() {
      cache.clear();
      return sqlite.close();
    },
  } as Pick<SQLite.Database, 'prepare' | 'close'>;
}

/** Maps driver errors to StoreError; anything else passes through unchanged. */
export function translateError(e: unknown): unknown {
  if (e instanceof StoreError) return e;
  const err = e as { code?: string; message?: string };
  const code = String(err?.code ?? '');
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreError('locked', 'the database is locked by another process; try again');
  }
  if (code.startsWith('SQLITE_CONSTRAINT') || code === '23505' || code === '23503' || code === '23514') {
    return new StoreError('conflict', `the change conflicts with stored data: ${err.message}`);
  }
  if (
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_IOERR' ||
    code.startsWith('SQLITE_IOERR')
  ) {
    return new StoreError('unavailable', `the database cannot be opened or written: ${err.message}`);
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError('unavailable', `the database file is damaged or not a database: ${err.message}`);
  }
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', '57P01', '3D000', '28P01', '08006'].includes(
      code,
    )
  ) {
    return new StoreError('unavailable', `the database server is unreachable: ${err.message}`);
  }
  if (err?.message && /timeout exceeded when trying to connect|Connection terminated/i.test(err.message)) {
    return new StoreError('unavailable', `the database server is unreachable: ${err.message}`);
  }
  return e;
}
