import { createHash } from 'node:crypto';
import { type SignatureAlgorithm, signatureAlgorithmIdentifier, verifySignature } from '../pki/index.js';
import type { StoreView } from '../store/index.js';

/** The setting naming the audit key: its reference in the key backend and its public key. */
export const AUDIT_KEY_SETTING = 'audit.key';

export interface AuditKeySetting {
  keyRef: string;
  algorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo DER, base64. */
  publicKey: string;
}

/**
 * A signed checkpoint of the audit chain: the head's sequence number and hash at a moment, signed
 * with the audit key. Kept outside the database, it shows whether the chain was later rewritten.
 */
export interface AuditCheckpoint {
  kind: 'kyso-audit-checkpoint';
  version: 1;
  seq: number;
  hash: string;
  at: string;
  algorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo DER, base64. */
  publicKey: string;
  /** Base64. */
  signature: string;
}

export interface CheckpointProblem {
  seq: number;
  problem: 'checkpoint-signature' | 'checkpoint-key' | 'checkpoint-rewritten' | 'checkpoint-truncated';
  message: string;
}

/** The bytes a checkpoint's signature covers. */
export function checkpointContent(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>): Uint8Array {
  return Buffer.from(`kyso-audit-checkpoint-v1\n${c.seq}\n${c.hash}\n${c.at}`, 'utf8');
}

/** Makes a checkpoint of the chain's head with `sign` (the audit key). */
export async function signCheckpoint(
  head: { seq: number; hash: string },
  key: { algorithm: SignatureAlgorithm; publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> },
  at: Date = new Date(),
): Promise<AuditCheckpoint> {
  const fields = { seq: head.seq, hash: head.hash, at: at.toISOString() };
  const signature = await key.sign(checkpointContent(fields));
  return {
    kind: 'kyso-audit-checkpoint',
    version: 1,
    ...fields,
    algorithm: key.algorithm,
    publicKey: Buffer.from(key.publicKey).toString('base64'),
    signature: Buffer.from(signature).toString('base64'),
  };
}

/** Reads a checkpoint file's JSON; undefined fields or a wrong kind are refused. */
export function parseCheckpoint(text: string): AuditCheckpoint {
  let c: Partial<AuditCheckpoint>;
  try {
    c = JSON.parse(text);
  } catch {
    throw new Error('the checkpoint is not JSON');
  }
  if (
    c?.kind !== 'kyso-audit-checkpoint' ||
    c.version !== 1 ||
    !Number.isSafeInteger(c.seq) ||
    typeof c.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(c.hash) ||
    typeof c.at !== 'string' ||
    typeof c.algorithm !== 'string' ||
    typeof c.publicKey !== 'string' ||
    typeof c.signature !== 'string'
  )
    throw new Error('the file is not a Kyso audit checkpoint');
  return c as AuditCheckpoint;
}

/** The SHA-256 fingerprint of an audit public key, as `kyso init` prints it. */
export function auditKeyFingerprint(publicKeyBase64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex');
}

/**
 * Checks the chain against a checkpoint: the checkpoint is signed by this installation's audit
 * key, and the entry it names still has the hash it had. A chain rewritten consistently after
 * the checkpoint (every hash recomputed) passes the chain walk but not this.
 */
export async function checkAgainstCheckpoint(
  store: StoreView,
  c: AuditCheckpoint,
  entryHash: (seq: number) => string | undefined,
): Promise<CheckpointProblem[]> {
  const problems: CheckpointProblem[] = [];
  let signed = false;
  try {
    signed = verifySignature(
      signatureAlgorithmIdentifier(c.algorithm),
      Buffer.from(c.publicKey, 'base64'),
      checkpointContent(c),
      Buffer.from(c.signature, 'base64'),
    );
  } catch {
    signed = false;
  }
  if (!signed)
    problems.push({
      seq: c.seq,
      problem: 'checkpoint-signature',
      message: 'the checkpoint signature does not verify',
    });
  const setting = await store.settings.get(AUDIT_KEY_SETTING);
  const key = setting ? (JSON.parse(setting) as AuditKeySetting) : undefined;
  if (!key || key.publicKey !== c.publicKey) {
    problems.push({
      seq: c.seq,
      problem: 'checkpoint-key',
      message: `the checkpoint is signed by audit key ${auditKeyFingerprint(c.publicKey)}, not by this installation's`,
    });
  }
  const hash = entryHash(c.seq);
  if (hash === undefined) {
    problems.push({
      seq: c.seq,
      problem: 'checkpoint-truncated',
      message: `the checkpoint names entry ${c.seq}, which the log no longer has`,
    });
  } else if (hash !== c.hash) {
    problems.push({
      seq: c.seq,
      problem: 'checkpoint-rewritten',
      message: `entry ${c.seq} is not the one the checkpoint of ${c.at} signed: the chain was rewritten`,
    });
  }
  return problems;
}
