import type { Kysely } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { CHANGE_FEED_CHANNEL } from './change-feed-migration.js';
import type { CertificateStatus } from './records.js';
import type { Database } from './schema.js';

/** One entry of the change feed; ids grow in the database's commit order. */
export type Change =
  | { id: number; kind: 'status'; serial: string; caId: string; status: CertificateStatus }
  | { id: number; kind: 'ca'; caId: string }
  | { id: number; kind: 'service'; name: string };

/** Reads the change feed by id (the triggers of change-feed-migration.ts write it). */
export class ChangeFeedRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The id of the newest entry, 0 when there is none. */
  async latestId(): Promise<number> {
    const row = await this.db
      .selectFrom('change_feed')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** The entries after `id`, oldest first. */
  async after(id: number, limit: number): Promise<Change[]> {
    const rows = await this.db
      .selectFrom('change_feed')
      .selectAll()
      .where('id', '>', id)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r): Change => {
      const common = { id: Number(r.id) };
      if (r.kind === 'status')
        return { ...common, kind: 'status', serial: r.subject, caId: r.ca_id!, status: r.status! };
      if (r.kind === 'ca') return { ...common, kind: 'ca', caId: r.subject };
      return { ...common, kind: 'service', name: r.subject };
    });
  }
}

export interface ChangeFeedEvents {
  /** New entries, oldest first; one batch at a time, never out of order. */
  changed(changes: Change[]): void;
  /** Reading or listening failed; told once until it works again. */
  failed?(error: unknown): void;
  /** It works again after a failure. */
  recovered?(): void;
}

export interface ChangeFeedOptions {
  /**
   * How often the feed is read without being woken: on PostgreSQL the safety net under
   * LISTEN/NOTIFY, on SQLite how other processes' changes (the command line) are heard.
   */
  pollMs: number;
  /** The id to follow from; by default the newest entry when it starts. */
  after?: number;
}

const PAGE = 1000;
const RECONNECT_MS = 1000;

/**
 * Follows the change feed from where it stood at start: every node hears every status, CA and
 * service-certificate change in commit order, whatever its clock says. PostgreSQL wakes it
 * with NOTIFY; a change this process made wakes it at once (`wake`).
 */
export class ChangeFeed {
  private reading?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private listener?: pg.Client;
  private reconnect?: NodeJS.Timeout;
  private stopped = false;
  private failing = false;

  private constructor(
    private readonly feed: ChangeFeedRepository,
    private readonly events: ChangeFeedEvents,
    private cursor: number,
  ) {}

  /** Starts following after `options.after` or the newest entry: what came before is already in the database. */
  static async start(
    feed: ChangeFeedRepository,
    database: DatabaseConfig,
    events: ChangeFeedEvents,
    options: ChangeFeedOptions,
  ): Promise<ChangeFeed> {
    const follower = new ChangeFeed(feed, events, options.after ?? (await feed.latestId()));
    if (database.kind === 'postgres') await follower.listen(database.url);
    follower.timer = setInterval(() => follower.wake(), options.pollMs);
    follower.timer.unref();
    return follower;
  }

  /** Reads what is new now; calls made during a read make one more read after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Stops listening and polling, after a read under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.reading;
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.feed.after(this.cursor, PAGE);
        if (changes.length > 0) {
          this.cursor = changes[changes.length - 1].id;
          this.events.changed(changes);
        }
        if (changes.length < PAGE) break;
      }
      this.ok();
    } catch (e) {
      this.fail(e);
    }
  }

  private async listen(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true });
    let lost = false;
    const onLost = (e: unknown) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      this.fail(e);
      this.listenLater(url);
    };
    client.on('notification', () => this.wake());
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the LISTEN connection to PostgreSQL closed')));
    await client.connect();
    await client.query(`LISTEN ${CHANGE_FEED_CHANNEL}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.listener = client;
    // What was committed while nobody listened.
    this.wake();
  }

  private listenLater(url: string): void {
    if (this.stopped || this.reconnect) return;
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      this.listen(url).catch((e) => {
        this.fail(e);
        this.listenLater(url);
      });
    }, RECONNECT_MS);
    this.reconnect.unref();
  }

  private fail(e: unknown): void {
    if (this.stopped || this.failing) return;
    this.failing = true;
    this.events.failed?.(e);
  }

  private ok(): void {
    if (!this.failing) return;
    this.failing = false;
    this.events.recovered?.();
  }
}
