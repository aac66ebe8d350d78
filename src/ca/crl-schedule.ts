import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CertificateAuthority } from './authority.js';
import { issueCrl } from './crl.js';
import { isOffline, type PresignedItem, presignedExpiry } from './offline-root.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const LEASE = 'crl-schedule';
const LEASE_MIN_MS = 30_000;

export interface CrlScheduleEvents {
  issued?(crl: { caId: string; number: number; delta: boolean; entries: number }): void;
  failed?(caId: string, error: unknown): void;
  /** An offline root's pre-signed CRL or OCSP answer runs out within the warning window (or has). */
  expiring?(item: PresignedItem): void;
}

/**
 * Keeps every active CA's CRLs fresh: a full CRL when the last one is older than the full
 * interval (or half its validity, whichever is sooner), or shortly after a revocation; a delta
 * on each new full CRL at once (so the Freshest-CRL URL always answers) and when the last delta
 * is older than the delta interval. It looks at what is stored, so a restart picks up where it
 * left. An offline root signs its own CRLs at its ceremony: the schedule only warns before they
 * run out.
 * Of several nodes on one database, only the holder of the schedule's lease issues.
 */
export class CrlSchedule {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly pendingDeltas = new Map<string, NodeJS.Timeout>();
  // CA id → when a full CRL is due because of a revocation, and the timer that makes it then.
  private readonly fullDue = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly now: () => Date;
  // What was warned about, and when: a warning a day is enough, not one a minute.
  private readonly warned = new Map<string, number>();
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly authority: CertificateAuthority,
    private readonly events: CrlScheduleEvents = {},
    private readonly checkEveryMs = MINUTE,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Checks now, then every `checkEveryMs`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.checkEveryMs);
    this.timer.unref();
    this.tick();
  }

  // A timer's run must never reject unheard: a database outage would end the process.
  private tick(): void {
    this.runOnce().catch((e) => this.events.failed?.('*', e));
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.pendingDeltas.values()) clearTimeout(t);
    this.pendingDeltas.clear();
    for (const d of this.fullDue.values()) clearTimeout(d.timer);
    this.fullDue.clear();
    await this.running;
    // Another node takes over at its next check instead of when the lease runs out.
    await this.authority.store.leases.release(LEASE, this.holder).catch(() => {});
  }

  /**
   * A delta CRL for `caId` shortly, and (unless configured off) a full one within
   * `crl.fullAfterRevocationSeconds`: a revocation should not wait for the schedule. Changes that
   * come close together share one delta and one full CRL.
   */
  soon(caId: string, delayMs = 2000): void {
    const fullAfter = this.authority.config.crl.fullAfterRevocationSeconds * 1000;
    if (fullAfter > 0 && !this.fullDue.has(caId)) {
      // After a run under way, not folded into it: that run may have checked this CA already.
      const timer = setTimeout(() => {
        (this.running ?? Promise.resolve())
          .then(() => this.runOnce())
          .catch((e) => this.events.failed?.(caId, e));
      }, fullAfter);
      timer.unref();
      this.fullDue.set(caId, { at: this.now().getTime() + fullAfter, timer });
    }
    if (this.pendingDeltas.has(caId)) return;
    const t = setTimeout(() => {
      this.pendingDeltas.delete(caId);
      const run = (this.running ?? Promise.resolve()).then(async () => {
        if (await this.claim()) await this.issue(caId, true, this.now());
      });
      run.catch((e) => this.events.failed?.(caId, e));
    }, delayMs);
    t.unref();
    this.pendingDeltas.set(caId, t);
  }

  /** Issues whatever CRLs are due now; one run at a time. */
  runOnce(now: Date = this.now()): Promise<void> {
    if (!this.running) {
      // Every node warns in its own log about what an offline root pre-signed; one node issues.
      this.running = this.claim()
        .then((held) => (held ? this.due(now) : undefined))
        .then(() => this.warnOffline(now))
        .finally(() => {
          this.running = undefined;
        });
    } else {
      // A long run keeps the lease.
      this.claim().catch((e) => this.events.failed?.('*', e));
    }
    return this.running;
  }

  /**
   * Takes or keeps the lease. It outlives a few checks (and half a minute: a node busy for a
   * moment keeps it), so a holder that dies is replaced soon; one that stops hands it over.
   */
  private claim(): Promise<boolean> {
    return this.authority.store.leases.claim(
      LEASE,
      this.holder,
      Math.max(3 * this.checkEveryMs, LEASE_MIN_MS),
    );
  }

  private async due(now: Date): Promise<void> {
    const { crl } = this.authority.config;
    const fullEvery = Math.min(crl.fullIntervalHours, crl.validityHours / 2) * HOUR;
    const deltaEvery = Math.min(crl.deltaIntervalMinutes * MINUTE, (crl.deltaValidityHours / 2) * HOUR);
    for (const ca of await this.authority.store.cas.list()) {
      if (ca.status !== 'active' || isOffline(ca)) continue;
      try {
        const full = await this.authority.store.crls.latest(ca.id, 'full');
        const due = this.fullDue.get(ca.id);
        if (
          !full ||
          now.getTime() - full.thisUpdate.getTime() >= fullEvery ||
          (due && due.at <= now.getTime())
        ) {
          if (due) clearTimeout(due.timer);
          this.fullDue.delete(ca.id);
          await this.issue(ca.id, false, now);
          await this.issue(ca.id, true, now);
          continue;
        }
        const delta = await this.authority.store.crls.latest(ca.id, 'delta');
        const lastDelta = delta && delta.number > full.number ? delta.thisUpdate : full.thisUpdate;
        if (!delta || delta.number < full.number || now.getTime() - lastDelta.getTime() >= deltaEvery)
          await this.issue(ca.id, true, now);
      } catch (e) {
        this.events.failed?.(ca.id, e);
      }
    }
  }

  private async warnOffline(now: Date): Promise<void> {
    const warnBefore = this.authority.config.offlineRoot.warnDays * 24 * HOUR;
    try {
      for (const item of await presignedExpiry(this.authority)) {
        if (item.nextUpdate && item.nextUpdate.getTime() - now.getTime() > warnBefore) continue;
        const key = `${item.caId}:${item.kind}:${item.what}`;
        const last = this.warned.get(key);
        if (last !== undefined && now.getTime() - last < 24 * HOUR) continue;
        this.warned.set(key, now.getTime());
        this.events.expiring?.(item);
      }
    } catch (e) {
      this.events.failed?.('offline root', e);
    }
  }

  private async issue(caId: string, delta: boolean, now?: Date): Promise<void> {
    const crl = await issueCrl(this.authority, { caId, delta, actor: 'system:crl-schedule', now });
    this.events.issued?.({ caId, number: crl.number, delta, entries: crl.entries });
  }
}
