import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AUDIT_KEY_SETTING,
  type AuditCheckpoint,
  type AuditKeySetting,
  signCheckpoint,
} from '../auth/index.js';
import type { CertificateAuthority } from './authority.js';
import { CaError } from './errors.js';

/** Signs the audit chain's current head with the installation's audit key. */
export async function makeAuditCheckpoint(
  authority: CertificateAuthority,
  at?: Date,
): Promise<AuditCheckpoint> {
  const setting = await authority.store.settings.get(AUDIT_KEY_SETTING);
  if (!setting)
    throw new CaError(
      'no-audit-key',
      'this data directory has no audit key: it was initialized before `kyso init` made one',
    );
  const key = JSON.parse(setting) as AuditKeySetting;
  const signer = await (await authority.keyBackend()).signer(key.keyRef, key.algorithm);
  const head = (await authority.store.audit.head()) ?? { seq: 0, hash: '0'.repeat(64) };
  return signCheckpoint(head, signer, at);
}

/** Writes a checkpoint file whole (a temporary file, then a rename), so a reader never sees half of one. */
export function writeCheckpoint(file: string, checkpoint: AuditCheckpoint): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * The server's checkpoints: every interval, a checkpoint of the head in `dir`, named by its
 * sequence number, for the operator to ship off the machine. A failure is reported, never thrown.
 */
export class AuditCheckpointSchedule {
  private timer?: NodeJS.Timeout;
  private lastSeq?: number;

  constructor(
    private readonly authority: CertificateAuthority,
    private readonly dir: string,
    private readonly everyMs: number,
    private readonly events: { written?(file: string): void; failed?(error: unknown): void } = {},
  ) {}

  /** Writes one now, then one per interval. */
  start(): void {
    if (this.timer || this.everyMs <= 0) return;
    this.timer = setInterval(() => void this.runOnce(), this.everyMs);
    this.timer.unref();
    void this.runOnce();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes a checkpoint unless the head has not moved since the last one; resolves to its file. */
  async runOnce(at?: Date): Promise<string | undefined> {
    try {
      const checkpoint = await makeAuditCheckpoint(this.authority, at);
      if (checkpoint.seq === this.lastSeq) return undefined;
      const file = path.join(this.dir, `audit-${String(checkpoint.seq).padStart(10, '0')}.json`);
      writeCheckpoint(file, checkpoint);
      this.lastSeq = checkpoint.seq;
      this.events.written?.(file);
      return file;
    } catch (e) {
      this.events.failed?.(e);
      return undefined;
    }
  }
}
