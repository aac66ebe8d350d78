import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type Dialect as KyselyDialect,
  PostgresDialect,
  type QueryResult,
  SqliteDialect,
  type TransactionSettings,
} from 'kysely';
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
      sqlite = new SQLite(config.file, { timeout: config.busyTimeoutMs ?? 5000 });
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
    } catch (e) {
      throw translateError(e);
    }
    const dialect: Dialect = { kind: 'sqlite', binary: 'blob', time: 'integer' };
    const db = new Kysely<Database>({
      dialect: translating(new SqliteDialect({ database: withStatementCache(sqlite) })),
    });
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
  // A checked-out client between queries (in a transaction, or about to run one) has no listener
  // of the pool's: its "connection terminated" would be an uncaught error ending the process.
  pool.on('connect', (client) =>
    client.on('error', () => {
      // The query that uses it next fails, as StoreError('unavailable').
    }),
  );
  const dialect: Dialect = { kind: 'postgres', binary: 'bytea', time: 'bigint' };
  const db = new Kysely<Database>({ dialect: translating(new PostgresDialect({ pool, cursor: Cursor })) });
  await migrate(db, dialect).catch(async (e) => {
    await db.destroy();
    throw translateError(e);
  });
  return { db, dialect };
}

/**
 * A dialect whose every query failure is a StoreError where the driver's error has a known
 * meaning (down, locked, full, conflict), so no caller ever sees a driver's error for those.
 */
function translating(inner: KyselyDialect): KyselyDialect {
  return {
    createDriver: () => new TranslatingDriver(inner.createDriver()),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}

// A thunk: some drivers throw synchronously rather than reject.
async function translated<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw translateError(e);
  }
}

class TranslatingDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  init(): Promise<void> {
    return translated(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await translated(() => this.inner.acquireConnection());
    // The driver gets its own connection object back in the calls below: a proxy keeps its identity.
    return new Proxy(connection, {
      get(target, prop) {
        if (prop === 'executeQuery')
          return <R>(q: CompiledQuery): Promise<QueryResult<R>> =>
            translated(() => target.executeQuery<R>(q));
        if (prop === 'streamQuery')
          return async function* <R>(q: CompiledQuery, chunkSize?: number) {
            try {
              yield* target.streamQuery<R>(q, chunkSize);
            } catch (e) {
              throw translateError(e);
            }
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return translated(() => this.inner.beginTransaction(c, settings));
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.commitTransaction(c));
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.rollbackTransaction(c));
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(c);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
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

// PostgreSQL SQLSTATEs and socket errors that mean the server cannot be reached right now.
const PG_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '3D000',
  '28P01',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** Maps driver errors to StoreError; anything else passes through unchanged. */
export function translateError(e: unknown): unknown {
  if (e instanceof StoreError) return e;
  const err = e as { code?: string; message?: string };
  const code = String(err?.code ?? '');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError('locked', 'the database is locked by another process; try again', { cause: e });
  }
  if (code === '57014') {
    return new StoreError('timeout', 'the database query took too long and was stopped', { cause: e });
  }
  if (code === 'SQLITE_FULL' || code === '53100' || code === 'ENOSPC') {
    return new StoreError('full', 'the disk holding the database is full', { cause: e });
  }
  if (code.startsWith('SQLITE_CONSTRAINT') || code === '23505' || code === '23503' || code === '23514') {
    return new StoreError('conflict', `the change conflicts with stored data: ${err.message}`, { cause: e });
  }
  if (
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_IOERR' ||
    code.startsWith('SQLITE_IOERR')
  ) {
    return new StoreError('unavailable', `the database cannot be opened or written: ${err.message}`, {
      cause: e,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError('unavailable', `the database file is damaged or not a database: ${err.message}`, {
      cause: e,
    });
  }
  if (PG_UNAVAILABLE.has(code)) {
    return new StoreError('unavailable', `the database server is unreachable: ${err.message}`, { cause: e });
  }
  if (
    err?.message &&
    /timeout exceeded when trying to connect|Connection terminated|connection error|not queryable/i.test(
      err.message,
    )
  ) {
    return new StoreError('unavailable', `the database server is unreachable: ${err.message}`, { cause: e });
  }
  return e;
}
