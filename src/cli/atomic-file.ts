import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { WriteError } from './errors.js';

/**
 * Writes a file from its parts so that readers see the old file or the whole new one, never a part:
 * a temporary file created exclusively beside it (same file system, never someone else's file),
 * synced, then renamed over it. On any failure the temporary file is removed, the old file is left as
 * it was, and a WriteError names the target and the system's reason. Parts are written as they come,
 * so a large output is never held twice.
 */
export function writeFileAtomically(file: string, parts: Iterable<Uint8Array | string>): void {
  if (isSpecialFile(file)) {
    writeInPlace(file, parts);
    return;
  }
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    const fd = openSync(temp, 'wx', 0o644);
    created = true;
    try {
      for (const part of parts) writeSync(fd, typeof part === 'string' ? Buffer.from(part) : part);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    if (created) rmSync(temp, { force: true });
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new WriteError(file, reason, { cause: e });
  }
  syncDirectory(dir);
}

/** A device, pipe or socket (/dev/stdout, a FIFO): renaming a file over it would replace it. */
function isSpecialFile(file: string): boolean {
  try {
    return !statSync(file).isFile();
  } catch {
    return false;
  }
}

function writeInPlace(file: string, parts: Iterable<Uint8Array | string>): void {
  try {
    const fd = openSync(file, 'w');
    try {
      for (const part of parts) writeSync(fd, typeof part === 'string' ? Buffer.from(part) : part);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new WriteError(file, reason, { cause: e });
  }
}

/** Makes the rename itself durable; some file systems cannot sync a directory, which is no failure. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The file is complete under its name either way.
  }
}
