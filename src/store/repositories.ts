import { type Insertable, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type {
  AuditRecord,
  CaRecord,
  CertificateQuery,
  CertificateRecord,
  CertificateStatus,
  CertificateStatusRecord,
  CrlRecord,
  OcspResponseRecord,
  RevokedEntry,
} from './records.js';
import type { Database } from './schema.js';
import { prefixEnd, searchKey } from './search-key.js';

type Q = Kysely<Database> | Transaction<Database>;

const ms = (d: Date) => d.getTime();
const date = (n: number) => new Date(Number(n));
const dateOrNull = (n: number | null) => (n === null ? null : new Date(Number(n)));
const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** The certificate authorities this installation runs. */
export class CaRepository {
  constructor(private readonly q: Q) {}

  /** Stores a new CA. */
  async insert(ca: CaRecord): Promise<void> {
    await this.q
      .insertInto('cas')
      .values({
        id: ca.id,
        name: ca.name,
        role: ca.role,
        parent_id: ca.parentId,
        key_ref: ca.keyRef,
        algorithm: ca.algorithm,
        certificate: ca.certificate,
        subject_key_id: ca.subjectKeyId,
        status: ca.status,
        created_at: ms(ca.createdAt),
      })
      .execute();
  }

  /** Every CA, roots first. */
  async list(): Promise<CaRecord[]> {
    const rows = await this.q.selectFrom('cas').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toCa);
  }

  /** One CA by id. */
  async get(id: string): Promise<CaRecord | undefined> {
    const row = await this.q.selectFrom('cas').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCa(row);
  }
}

function toCa(r: Database['cas']): CaRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    parentId: r.parent_id,
    keyRef: r.key_ref,
    algorithm: r.algorithm,
    certificate: bytes(r.certificate),
    subjectKeyId: r.subject_key_id,
    status: r.status,
    createdAt: date(r.created_at),
  };
}

// A search that takes longer is cut off (PostgreSQL; SQLite's searches are index ranges with a limit).
const SEARCH_BUDGET_MS = 2000;
const MAX_RESULTS = 1000;

/** Issued certificates and their status. */
export class CertificateRepository {
  constructor(
    private readonly q: Q,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  /** Stores a newly issued certificate; a duplicate serial is a conflict. */
  async insert(c: CertificateRecord): Promise<void> {
    await this.insertMany([c]);
  }

  /** Stores several newly issued certificates with one statement. */
  async insertMany(records: CertificateRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.q.insertInto('certificates').values(records.map(certificateRow)).execute();
  }

  /** One certificate by its serial (uppercase hex). */
  async get(serial: string): Promise<CertificateRecord | undefined> {
    const row = await this.q
      .selectFrom('certificates')
      .selectAll()
      .where('serial', '=', serial)
      .executeTakeFirst();
    return row && toCertificate(row);
  }

  /** What an OCSP answer says about a certificate, and the status version it was read at. */
  async statusOf(serial: string): Promise<CertificateStatusRecord | undefined> {
    const r = await this.q
      .selectFrom('certificates')
      .select(['ca_id', 'status', 'revoked_at', 'revocation_reason', 'status_changed_at', 'status_version'])
      .where('serial', '=', serial)
      .executeTakeFirst();
    return (
      r && {
        serial,
        caId: r.ca_id,
        status: r.status,
        revokedAt: dateOrNull(r.revoked_at),
        reason: r.revocation_reason,
        statusChangedAt: date(r.status_changed_at),
        version: Number(r.status_version),
      }
    );
  }

  /**
   * Moves a certificate from one status to another. Returns false when its status was no
   * longer `from`, so a concurrent change is never overwritten.
   */
  async changeStatus(
    serial: string,
    from: CertificateStatus,
    to: { status: CertificateStatus; revokedAt: Date | null; reason: string | null; at: Date },
  ): Promise<boolean> {
    const res = await this.q
      .updateTable('certificates')
      .set({
        status: to.status,
        revoked_at: to.revokedAt && ms(to.revokedAt),
        revocation_reason: to.reason,
        status_changed_at: ms(to.at),
        status_version: sql<number>`status_version + 1`,
      })
      .where('serial', '=', serial)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Links a certificate to the one that replaced it (change of information). */
  async setReplacedBy(serial: string, replacement: string): Promise<void> {
    await this.q
      .updateTable('certificates')
      .set({ replaced_by: replacement })
      .where('serial', '=', serial)
      .execute();
  }

  /**
   * Searches certificates: by the start of the name, accent- and case-insensitive (searchKey), in
   * name order; by exact e-mail or serial first. Without text, newest first. Each query walks an
   * index in the order it returns, so it reads about `limit` rows however many match; on
   * PostgreSQL the statements also have a time budget.
   */
  async search(query: CertificateQuery): Promise<CertificateRecord[]> {
    if (this.kind === 'postgres' && !this.q.isTransaction) {
      return this.q.transaction().execute(async (trx) => {
        await sql.raw(`set local statement_timeout = ${SEARCH_BUDGET_MS}`).execute(trx);
        return new CertificateRepository(trx, this.kind).search(query);
      });
    }
    const now = ms(query.now ?? new Date());
    const limit = Math.min(query.limit ?? 100, MAX_RESULTS);
    let s = this.q.selectFrom('certificates').selectAll();
    if (query.caId) s = s.where('ca_id', '=', query.caId);
    if (query.profile) s = s.where('profile', '=', query.profile);
    if (query.status === 'expired') s = s.where('not_after', '<', now);
    else if (query.status === 'active') s = s.where('status', '=', 'active').where('not_after', '>=', now);
    else if (query.status) s = s.where('status', '=', query.status);
    const org = query.organization === undefined ? '' : searchKey(query.organization);
    if (org) s = s.where('search_org', '>=', org).where('search_org', '<', prefixEnd(org));
    if (!query.text) {
      const rows = await s
        .orderBy('created_at', 'desc')
        .orderBy('serial')
        .limit(limit)
        .offset(query.offset ?? 0)
        .execute();
      return rows.map(toCertificate);
    }
    const text = query.text.trim();
    const name = searchKey(text);
    const exact = await s
      .where((eb) =>
        eb.or([
          eb('email', 'in', [...new Set([text, text.toLowerCase()])]),
          eb('serial', '=', text.replace(/[:\s]/g, '').toUpperCase()),
        ]),
      )
      .limit(limit)
      .execute();
    const byName = name
      ? await s
          .where('search_name', '>=', name)
          .where('search_name', '<', prefixEnd(name))
          // The index's own order (search_name, created_at): no sort of every match.
          .orderBy('search_name')
          .orderBy('created_at')
          .limit(limit)
          .offset(query.offset ?? 0)
          .execute()
      : [];
    const seen = new Set<string>();
    return [...(query.offset ? [] : exact), ...byName]
      .filter((r) => !seen.has(r.serial) && seen.add(r.serial))
      .slice(0, limit)
      .map(toCertificate);
  }

  /** How many certificates a CA has issued, by status. */
  async countByStatus(caId?: string): Promise<Record<CertificateStatus, number>> {
    let s = this.q.selectFrom('certificates').select(['status', (eb) => eb.fn.countAll<number>().as('n')]);
    if (caId) s = s.where('ca_id', '=', caId);
    const rows = await s.groupBy('status').execute();
    const out: Record<CertificateStatus, number> = { active: 0, hold: 0, revoked: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /** The revoked and held, unexpired certificates of a CA, streamed: a CRL may list millions. */
  async *revoked(caId: string, now: Date): AsyncIterable<RevokedEntry> {
    const stream = this.q
      .selectFrom('certificates')
      .select(['serial', 'status', 'revoked_at', 'revocation_reason', 'status_changed_at'])
      .where('ca_id', '=', caId)
      .where('status', 'in', ['revoked', 'hold'])
      .where('not_after', '>=', ms(now))
      .stream(5000);
    for await (const r of stream) yield toRevoked(r);
  }

  /** Serials whose status changed after `since`, oldest first: how a server hears of another process's changes. */
  async statusChangesAfter(
    since: Date,
    limit = 1000,
  ): Promise<{ serial: string; caId: string; status: CertificateStatus; at: Date }[]> {
    const rows = await this.q
      .selectFrom('certificates')
      .select(['serial', 'ca_id', 'status', 'status_changed_at'])
      .where('status_changed_at', '>', ms(since))
      .where((eb) => eb.or([eb('status', '!=', 'active'), eb('revocation_reason', 'is not', null)]))
      .orderBy('status_changed_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      serial: r.serial,
      caId: r.ca_id,
      status: r.status,
      at: date(r.status_changed_at),
    }));
  }

  /** Certificates of a CA revoked, held or released from hold at or after `since` (for a delta CRL). */
  async *changedSince(caId: string, since: Date, now: Date): AsyncIterable<RevokedEntry> {
    const stream = this.q
      .selectFrom('certificates')
      .select(['serial', 'status', 'revoked_at', 'revocation_reason', 'status_changed_at'])
      .where('ca_id', '=', caId)
      .where('status_changed_at', '>=', ms(since))
      .where((eb) => eb.or([eb('status', '!=', 'active'), eb('revocation_reason', '=', 'removeFromCRL')]))
      .where('not_after', '>=', ms(now))
      .stream(5000);
    for await (const r of stream) yield toRevoked(r);
  }
}

function certificateRow(c: CertificateRecord): Insertable<Database['certificates']> {
  return {
    serial: c.serial,
    ca_id: c.caId,
    profile: c.profile,
    status: c.status,
    subject: c.subject,
    common_name: c.commonName,
    organization: c.organization,
    email: c.email,
    not_before: ms(c.notBefore),
    not_after: ms(c.notAfter),
    der: c.der,
    fingerprint: c.fingerprint,
    key_sha256: c.keySha256,
    revoked_at: c.revokedAt && ms(c.revokedAt),
    revocation_reason: c.revocationReason,
    status_changed_at: ms(c.statusChangedAt),
    renewed_from: c.renewedFrom,
    replaced_by: c.replacedBy,
    created_at: ms(c.createdAt),
    search_name: searchKey(c.commonName),
    search_org: c.organization === null ? null : searchKey(c.organization),
  };
}

function toRevoked(r: {
  serial: string;
  status: CertificateStatus;
  revoked_at: number | null;
  revocation_reason: string | null;
  status_changed_at: number;
}): RevokedEntry {
  return {
    serial: r.serial,
    status: r.status,
    revokedAt: dateOrNull(r.revoked_at),
    reason: r.revocation_reason,
    statusChangedAt: date(r.status_changed_at),
  };
}

function toCertificate(r: Selectable<Database['certificates']>): CertificateRecord {
  return {
    serial: r.serial,
    caId: r.ca_id,
    profile: r.profile,
    status: r.status,
    subject: r.subject,
    commonName: r.common_name,
    organization: r.organization,
    email: r.email,
    notBefore: date(r.not_before),
    notAfter: date(r.not_after),
    der: bytes(r.der),
    fingerprint: r.fingerprint,
    keySha256: r.key_sha256,
    revokedAt: dateOrNull(r.revoked_at),
    revocationReason: r.revocation_reason,
    statusChangedAt: date(r.status_changed_at),
    renewedFrom: r.renewed_from,
    replacedBy: r.replaced_by,
    createdAt: date(r.created_at),
  };
}

/** Issued CRLs, full and delta. */
export class CrlRepository {
  constructor(private readonly q: Q) {}

  /** The number the next CRL of a CA gets: full and delta CRLs share one sequence (RFC 5280 §5.2.3). */
  async nextNumber(caId: string): Promise<number> {
    const row = await this.q
      .selectFrom('crls')
      .select((eb) => eb.fn.max('number').as('n'))
      .where('ca_id', '=', caId)
      .executeTakeFirst();
    return Number(row?.n ?? 0) + 1;
  }

  /** Stores a CRL; a duplicate number is a conflict. */
  async insert(c: CrlRecord): Promise<void> {
    await this.q
      .insertInto('crls')
      .values({
        ca_id: c.caId,
        number: c.number,
        delta_base: c.deltaBase,
        this_update: ms(c.thisUpdate),
        next_update: ms(c.nextUpdate),
        entries: c.entries,
        der: c.der,
        created_at: ms(c.createdAt),
      })
      .execute();
  }

  /** The number of the newest full (or delta) CRL of a CA: a cheap freshness check for caches. */
  async latestNumber(caId: string, kind: 'full' | 'delta'): Promise<number | undefined> {
    const row = await this.q
      .selectFrom('crls')
      .select((eb) => eb.fn.max('number').as('n'))
      .where('ca_id', '=', caId)
      .where('delta_base', kind === 'full' ? 'is' : 'is not', null)
      .executeTakeFirst();
    return row?.n == null ? undefined : Number(row.n);
  }

  /** The newest full (or delta) CRL of a CA. */
  async latest(caId: string, kind: 'full' | 'delta'): Promise<CrlRecord | undefined> {
    const row = await this.q
      .selectFrom('crls')
      .selectAll()
      .where('ca_id', '=', caId)
      .where('delta_base', kind === 'full' ? 'is' : 'is not', null)
      .orderBy('number', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toCrl(row);
  }
}

function toCrl(r: Database['crls']): CrlRecord {
  return {
    caId: r.ca_id,
    number: Number(r.number),
    deltaBase: r.delta_base === null ? null : Number(r.delta_base),
    thisUpdate: date(r.this_update),
    nextUpdate: date(r.next_update),
    entries: Number(r.entries),
    der: bytes(r.der),
    createdAt: date(r.created_at),
  };
}

/** The hash-chained audit log; only appended to. */
export class AuditRepository {
  constructor(private readonly q: Q) {}

  /** The last entry's sequence number and hash, as recorded in the head row. */
  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const row = await this.q
      .selectFrom('audit_head')
      .select(['seq', 'hash'])
      .where('id', '=', 1)
      .executeTakeFirst();
    return row && { seq: Number(row.seq), hash: row.hash };
  }

  /**
   * Appends entries (consecutive, in order) and moves the head, but only if the head is still
   * the entry before the first: two writers can never both extend the chain from one entry.
   */
  async append(entries: AuditRecord[]): Promise<boolean> {
    if (entries.length === 0) return true;
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first.seq === 1) {
      // A racing first writer makes this a primary-key conflict, which aborts the transaction.
      await this.q.insertInto('audit_head').values({ id: 1, seq: last.seq, hash: last.hash }).execute();
    } else {
      const moved = await this.q
        .updateTable('audit_head')
        .set({ seq: last.seq, hash: last.hash })
        .where('id', '=', 1)
        .where('seq', '=', first.seq - 1)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return false;
    }
    await this.q
      .insertInto('audit_log')
      .values(
        entries.map((e) => ({
          seq: e.seq,
          at: ms(e.at),
          actor: e.actor,
          action: e.action,
          target: e.target,
          details: e.details,
          prev_hash: e.prevHash,
          hash: e.hash,
        })),
      )
      .execute();
    return true;
  }

  /** Every entry in order, streamed. */
  async *all(): AsyncIterable<AuditRecord> {
    const stream = this.q.selectFrom('audit_log').selectAll().orderBy('seq').stream(5000);
    for await (const r of stream) {
      yield {
        seq: Number(r.seq),
        at: date(r.at),
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: r.details,
        prevHash: r.prev_hash,
        hash: r.hash,
      };
    }
  }
}

/** Small named values the system keeps (e.g. that the key ceremony has run). */
export class SettingRepository {
  constructor(private readonly q: Q) {}

  /** One setting, or undefined. */
  async get(key: string): Promise<string | undefined> {
    const row = await this.q.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Sets a setting, replacing any earlier value. */
  async set(key: string, value: string): Promise<void> {
    await this.q
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }
}

/** The OCSP responder's pre-signed responses, so a restart does not re-sign everything. */
export class OcspResponseRepository {
  constructor(
    private readonly q: Q,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  /**
   * A stored response for a CertID, if it was signed at the certificate's current status version:
   * one written back by a request that raced a status change is never handed out.
   */
  async get(certId: string): Promise<OcspResponseRecord | undefined> {
    const r = await this.q
      .selectFrom('ocsp_responses as r')
      .innerJoin('certificates as c', (j) =>
        j.onRef('c.serial', '=', 'r.serial').onRef('c.status_version', '=', 'r.status_version'),
      )
      .select(['r.cert_id', 'r.serial', 'r.der', 'r.this_update', 'r.next_update', 'r.status_version'])
      .where('r.cert_id', '=', certId)
      .executeTakeFirst();
    return (
      r && {
        certId: r.cert_id,
        serial: r.serial,
        der: bytes(r.der),
        thisUpdate: date(r.this_update),
        nextUpdate: date(r.next_update),
        statusVersion: Number(r.status_version),
      }
    );
  }

  /**
   * Stores or replaces a response, but only while the certificate is still at the status version
   * the response was signed for (compare-and-set in one statement). On PostgreSQL the certificate
   * row is share-locked, so a status change either commits first (and nothing is stored) or waits
   * for this write and then deletes it. Returns whether the response was stored.
   */
  async putIfCurrent(r: OcspResponseRecord): Promise<boolean> {
    let current = this.q
      .selectFrom('certificates')
      .select((eb) => [
        eb.val(r.certId).as('cert_id'),
        eb.val(r.serial).as('serial'),
        eb.val(r.der).as('der'),
        eb.val(ms(r.thisUpdate)).as('this_update'),
        eb.val(ms(r.nextUpdate)).as('next_update'),
        eb.val(r.statusVersion).as('status_version'),
      ])
      .where('serial', '=', r.serial)
      .where('status_version', '=', r.statusVersion);
    // SQLite has one writer at a time, so the statement cannot interleave with a status change.
    if (this.kind === 'postgres') current = current.forShare();
    const res = await this.q
      .insertInto('ocsp_responses')
      .columns(['cert_id', 'serial', 'der', 'this_update', 'next_update', 'status_version'])
      .expression(current)
      .onConflict((oc) =>
        oc.column('cert_id').doUpdateSet((eb) => ({
          der: eb.ref('excluded.der'),
          this_update: eb.ref('excluded.this_update'),
          next_update: eb.ref('excluded.next_update'),
          status_version: eb.ref('excluded.status_version'),
        })),
      )
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** How many responses are stored. */
  async count(): Promise<number> {
    const row = await this.q
      .selectFrom('ocsp_responses')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Forgets every response about a certificate: its status changed. */
  async forget(serial: string): Promise<void> {
    await this.q.deleteFrom('ocsp_responses').where('serial', '=', serial).execute();
  }
}
