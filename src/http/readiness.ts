import { statfs } from 'node:fs/promises';
import type { StoreView } from '../store/index.js';
import type { StoreFault } from '../va/index.js';

/** What /readyz reports: ready only when every check says "ok". */
export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

const PROBE_TIMEOUT_MS = 2000;
// A full disk still lets some writes fit in pages with room: report it for a while after each failure.
const FULL_REPORTED_MS = 60_000;
// Below this, SQLite's next page or WAL frame may not fit: report the disk as full before it is.
const MIN_FREE_BYTES = 16 * 1024 * 1024;

/**
 * Checks that the database answers, that signed OCSP answers can be stored (no store failed for a
 * full disk in the last minute) and, for SQLite, that its disk has room.
 */
export async function checkReadiness(s: {
  store: StoreView;
  ocspStoreFault(): StoreFault | undefined;
  /** The SQLite file's directory, for its free space; undefined on PostgreSQL. */
  databaseDir?: string;
  now?: Date;
}): Promise<Readiness> {
  const now = s.now ?? new Date();
  const checks: Record<string, string> = {};
  try {
    await withTimeout(s.store.settings.get('ca.default'), PROBE_TIMEOUT_MS);
    checks.database = 'ok';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    checks.database = `unavailable (${typeof code === 'string' ? code : 'error'})`;
  }
  const fault = s.ocspStoreFault();
  checks.storage =
    fault?.code === 'full' && now.getTime() - fault.at.getTime() < FULL_REPORTED_MS
      ? `full (last failed write ${fault.at.toISOString()})`
      : 'ok';
  if (s.databaseDir && checks.storage === 'ok') {
    try {
      const fs = await statfs(s.databaseDir);
      if (fs.bavail * fs.bsize < MIN_FREE_BYTES) checks.storage = 'full';
    } catch {
      checks.storage = 'unavailable (statfs)';
    }
  }
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'timeout' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
