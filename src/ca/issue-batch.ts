import type { AuditEvent, AuditLog } from '../auth/index.js';
import type { CertificateRecord, StoreView } from '../store/index.js';

interface Pending {
  record: CertificateRecord;
  event: AuditEvent;
  resolve(): void;
  reject(e: unknown): void;
}

type Transaction = <T>(fn: (tx: StoreView) => Promise<T>) => Promise<T>;

const MAX_BATCH = 256;

/**
 * Group commit for new certificates. Issuances that finish signing while a write is under way
 * are stored together in the next transaction, each with its own audit entry; a failed batch
 * is retried one certificate at a time, so one bad write never takes the others down.
 */
export class IssueBatch {
  private pending: Pending[] = [];
  private draining = false;

  constructor(
    private readonly transaction: Transaction,
    private readonly audit: AuditLog,
  ) {}

  /** Stores a certificate and its audit entry; resolves once they are committed. */
  write(record: CertificateRecord, event: AuditEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, event, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await this.commit(batch);
        for (const p of batch) p.resolve();
      } catch (e) {
        if (batch.length === 1) batch[0].reject(e);
        else {
          for (const p of batch) {
            await this.commit([p]).then(p.resolve, p.reject);
          }
        }
      }
    }
    this.draining = false;
  }

  private commit(batch: Pending[]): Promise<void> {
    return this.transaction(async (tx) => {
      await tx.certificates.insertMany(batch.map((p) => p.record));
      await this.audit.appendMany(
        tx,
        batch.map((p) => p.event),
      );
    });
  }
}
