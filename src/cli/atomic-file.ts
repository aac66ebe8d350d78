import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
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
  const { dir, temp } = temporaryBeside(file);
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
    throw writeError(file, e);
  }
  syncDirectory(dir);
}

/**
 * The same for a long write (a signed PDF: the input, then the new revisions) whose parts may come
 * asynchronously: the temporary file is also removed on SIGINT or SIGTERM, after which the signal
 * ends the process as it would have.
 */
export async function writeFileAtomicallyAsync(
  file: string,
  parts: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  if (isSpecialFile(file)) {
    const collected: Uint8Array[] = [];
    for await (const part of parts) collected.push(part);
    writeInPlace(file, collected);
    return;
  }
  const { dir, temp } = temporaryBeside(file);
  let created = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (created) rmSync(temp, { force: true });
    stopWatching();
    process.kill(process.pid, signal);
  };
  const stopWatching = () => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    const handle = await open(temp, 'wx', 0o644);
    created = true;
    try {
      for await (const part of parts) await handle.write(part);
      await handle.sync();
    } finally {
      await handle.close();
    }
    renameSync(temp, file);
    created = false;
  } catch (e) {
    if (created) rmSync(temp, { force: true });
    throw writeError(file, e);
  } finally {
    stopWatching();
  }
  syncDirectory(dir);
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** A random, exclusive name beside the target: same file system, so the rename is atomic. */
function temporaryBeside(file: string): { dir: string; temp: string } {
  const dir = path.dirname(path.resolve(file));
  return { dir, temp: path.join(dir, `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`) };
}

function writeError(file: string, e: unknown): WriteError {
  return new WriteError(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message, { cause: e });
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
    throw writeError(file, e);
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
