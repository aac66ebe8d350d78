import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CertificateAuthority } from './authority.js';
import { issueCrl } from './crl.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const LEASE = 'crl-schedule';
const LEASE_MIN_MS = 30_000;

export interface CrlScheduleEvents {
  issued?(crl: { caId: string; number: number; delta: boolean; entries: number }): void;
  failed?(caId: string, error: unknown): void;
}

/**
 * Keeps every active CA's CRLs fresh: a full CRL when the last one is older than the full
 * interval (or half its validity, whichever is sooner), a delta when the last delta is older
 * than the delta interval. It looks at what is stored, so a restart picks up where it left.
 * Of several nodes on one database, only the holder of the schedule's lease issues.
 */
export class CrlSchedule {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly pendingDeltas = new Map<string, NodeJS.Timeout>();
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly authority: CertificateAuthority,
    private readonly events: CrlScheduleEvents = {},
    private readonly checkEveryMs = MINUTE,
  ) {}

  /** Checks now, then every `checkEveryMs`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.checkEveryMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.pendingDeltas.values()) clearTimeout(t);
    this.pendingDeltas.clear();
    await this.running;
    // Another node takes over at its next check instead of when the lease runs out.
    await this.authority.store.leases.release(LEASE, this.holder).catch(() => {});
  }

  /**
   * A delta CRL for `caId` shortly: a revocation should not wait for the schedule. Changes that
   * come close together share one delta.
   */
  soon(caId: string, delayMs = 2000): void {
    if (this.pendingDeltas.has(caId)) return;
    const t = setTimeout(() => {
      this.pendingDeltas.delete(caId);
      const run = (this.running ?? Promise.resolve()).then(async () => {
        if (await this.claim()) await this.issue(caId, true);
      });
      run.catch((e) => this.events.failed?.(caId, e));
    }, delayMs);
    t.unref();
    this.pendingDeltas.set(caId, t);
  }

  /** Issues whatever CRLs are due now; one run at a time. */
  runOnce(now: Date = new Date()): Promise<void> {
    if (!this.running) {
      this.running = this.claim()
        .then((held) => (held ? this.due(now) : undefined))
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
      if (ca.status !== 'active') continue;
      try {
        const full = await this.authority.store.crls.latest(ca.id, 'full');
        if (!full || now.getTime() - full.thisUpdate.getTime() >= fullEvery) {
          await this.issue(ca.id, false);
          continue;
        }
        const delta = await this.authority.store.crls.latest(ca.id, 'delta');
        const lastDelta = delta && delta.number > full.number ? delta.thisUpdate : full.thisUpdate;
        if (now.getTime() - lastDelta.getTime() >= deltaEvery) await this.issue(ca.id, true);
      } catch (e) {
        this.events.failed?.(ca.id, e);
      }
    }
  }

  private async issue(caId: string, delta: boolean): Promise<void> {
    const crl = await issueCrl(this.authority, { caId, delta, actor: 'system:crl-schedule' });
    this.events.issued?.({ caId, number: crl.number, delta, entries: crl.entries });
  }
}
