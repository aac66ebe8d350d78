import type { Kysely, Transaction } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { ChangeFeedRepository } from './change-feed.js';
import { openDatabase, translateError } from './database.js';
import { LeaseRepository } from './leases.js';
import type { Dialect } from './migrations.js';
import {
  AuditRepository,
  CaRepository,
  CertificateRepository,
  CrlRepository,
  OcspResponseRepository,
  SettingRepository,
} from './repositories.js';
import type { Database } from './schema.js';

/** The repositories, over either the whole database or one transaction. */
export class StoreView {
  readonly cas: CaRepository;
  readonly certificates: CertificateRepository;
  readonly crls: CrlRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingRepository;
  readonly ocspResponses: OcspResponseRepository;

  constructor(q: Kysely<Database> | Transaction<Database>, kind: 'sqlite' | 'postgres') {
    this.cas = new CaRepository(q);
    this.certificates = new CertificateRepository(q, kind);
    this.crls = new CrlRepository(q);
    this.audit = new AuditRepository(q);
    this.settings = new SettingRepository(q);
    this.ocspResponses = new OcspResponseRepository(q, kind);
  }
}

/** The database: reads through its repositories, every state change through `transaction`. */
export class Store extends StoreView {
  private constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {
    super(db, dialect.kind);
  }

  /** Opens the configured database; `create` allows making a new SQLite file. */
  static async open(config: DatabaseConfig, options: { create?: boolean } = {}): Promise<Store> {
    const { db, dialect } = await openDatabase(config, { create: options.create ?? false });
    return new Store(db, dialect);
  }

  get kind(): 'sqlite' | 'postgres' {
    return this.dialect.kind;
  }

  /** The change feed, read outside any transaction (its entries are written by triggers). */
  get changeFeed(): ChangeFeedRepository {
    return new ChangeFeedRepository(this.db);
  }

  /** Leases that let one node of several run a job. */
  get leases(): LeaseRepository {
    return new LeaseRepository(this.db, this.dialect.kind);
  }

  /** Runs `fn` in one transaction: all of it is stored, or none of it. */
  async transaction<T>(fn: (tx: StoreView) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute((trx) => fn(new StoreView(trx, this.dialect.kind)));
    } catch (e) {
      throw translateError(e);
    }
  }

  /** Closes the connections once in-flight queries finish. */
  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Test helper for tamper tests and maintenance: raw access, kept out of the domain folders. */
  get kysely(): Kysely<Database> {
    return this.db;
  }
}
