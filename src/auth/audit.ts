import { createHash } from 'node:crypto';
import type { AuditRecord, StoreView } from '../store/index.js';
import { type AuditCheckpoint, type CheckpointProblem, checkAgainstCheckpoint } from './checkpoint.js';

/** What happened, by whom, to what. */
export interface AuditEvent {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditProblem {
  seq: number;
  problem:
    | 'hash-mismatch'
    | 'broken-link'
    | 'gap'
    | 'head-mismatch'
    | 'missing-head'
    | CheckpointProblem['problem'];
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headSeq: number | null;
  /** The head entry's hash: copy it (with headSeq) off the machine, or sign it as a checkpoint. */
  headHash: string | null;
  problems: AuditProblem[];
  /** The checkpoint checked against, when one was given. */
  checkpoint?: { seq: number; hash: string; at: string };
}

/** Which entries `kyso audit log` shows. */
export interface AuditFilter {
  /** Entries at or after this time. */
  since?: Date;
  /** A case-insensitive part of the actor. */
  actor?: string;
  /** An action, or a prefix ending in a dot (`certificate.`). */
  action?: string;
}

const GENESIS = '0'.repeat(64);

/** The hash that binds an entry to its content and to the entry before it. */
export function auditHash(e: Omit<AuditRecord, 'hash'>): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at.getTime(),
    e.actor,
    e.action,
    e.target,
    e.details,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

// Several processes append to one chain (server nodes issuing CRLs, the command line): each
// lost race re-reads the head and tries again.
const APPEND_ATTEMPTS = 8;

/**
 * The append-only, hash-chained audit log. It remembers the chain's head between appends so
 * that an append costs no read; the head row's conditional update catches a stale memory.
 */
export class AuditLog {
  private head: { seq: number; hash: string } | undefined;

  /** Appends one entry inside the caller's transaction. */
  async append(tx: StoreView, event: AuditEvent, at: Date = new Date()): Promise<AuditRecord> {
    return (await this.appendMany(tx, [event], at))[0];
  }

  /** Appends several entries, chained in order, inside the caller's transaction. */
  async appendMany(tx: StoreView, events: AuditEvent[], at: Date = new Date()): Promise<AuditRecord[]> {
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      let head = (attempt === 0 && this.head) || (await tx.audit.head()) || { seq: 0, hash: GENESIS };
      const records = events.map((event) => {
        const partial = {
          seq: head.seq + 1,
          at,
          actor: event.actor,
          action: event.action,
          target: event.target ?? null,
          details: JSON.stringify(event.details ?? {}),
          prevHash: head.hash,
        };
        const record: AuditRecord = { ...partial, hash: auditHash(partial) };
        head = record;
        return record;
      });
      if (await tx.audit.append(records)) {
        this.head = { seq: head.seq, hash: head.hash };
        return records;
      }
      this.head = undefined;
    }
    throw new Error(`the audit log head moved ${APPEND_ATTEMPTS} times during one append`);
  }

  /** Forgets the remembered head, e.g. after a transaction rolled back. */
  forget(): void {
    this.head = undefined;
  }
}

/**
 * Walks the whole chain and reports every entry that was changed, inserted or removed; with a
 * checkpoint, also a chain rewritten consistently since it was signed.
 */
export async function verifyAuditLog(
  store: StoreView,
  options: { checkpoint?: AuditCheckpoint } = {},
): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let prev: AuditRecord | undefined;
  let entries = 0;
  const checkpointSeq = options.checkpoint?.seq;
  let hashAtCheckpoint: string | undefined;
  for await (const e of store.audit.all()) {
    entries++;
    if (e.seq === checkpointSeq) hashAtCheckpoint = e.hash;
    const expectedSeq = prev ? prev.seq + 1 : 1;
    if (e.seq !== expectedSeq) {
      problems.push({
        seq: e.seq,
        problem: 'gap',
        message: `entries ${expectedSeq}–${e.seq - 1} are missing`,
      });
    }
    const expectedPrev = prev ? prev.hash : GENESIS;
    if (e.prevHash !== expectedPrev) {
      problems.push({
        seq: e.seq,
        problem: 'broken-link',
        message: `entry ${e.seq} does not follow the entry before it`,
      });
    }
    const { hash, ...rest } = e;
    if (auditHash(rest) !== hash) {
      problems.push({
        seq: e.seq,
        problem: 'hash-mismatch',
        message: `entry ${e.seq} was changed after it was written`,
      });
    }
    prev = e;
  }
  const head = await store.audit.head();
  if (!head && prev) {
    problems.push({ seq: prev.seq, problem: 'missing-head', message: 'the chain head record is missing' });
  } else if (head && (!prev || head.seq !== prev.seq || head.hash !== prev.hash)) {
    problems.push({
      seq: head.seq,
      problem: 'head-mismatch',
      message: `the chain head says entry ${head.seq} is last, but the log ends at ${prev ? prev.seq : 'nothing'}`,
    });
  }
  const c = options.checkpoint;
  if (c) problems.push(...(await checkAgainstCheckpoint(store, c, () => hashAtCheckpoint)));
  return {
    ok: problems.length === 0,
    entries,
    headSeq: head?.seq ?? null,
    headHash: head?.hash ?? null,
    problems,
    ...(c ? { checkpoint: { seq: c.seq, hash: c.hash, at: c.at } } : {}),
  };
}

/** The entries that match a filter, oldest first. */
export async function* readAuditLog(store: StoreView, filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
  const actor = filter.actor?.toLowerCase();
  const action = filter.action;
  for await (const e of store.audit.all()) {
    if (filter.since && e.at < filter.since) continue;
    if (actor && !e.actor.toLowerCase().includes(actor)) continue;
    if (action && !(action.endsWith('.') ? e.action.startsWith(action) : e.action === action)) continue;
    yield e;
  }
}
