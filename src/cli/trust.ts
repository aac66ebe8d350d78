import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { certificateFile } from './ocsp.js';
import type { Io } from './output.js';

// The roots signature verification trusts: the files given on the command line, the roots of the Kyso
// CA in the data directory (its own subscribers' signatures), and the other roots the configuration
// names (trust.anchors in kyso.json, KYSO_TRUST_ANCHORS) — a ministry also trusts the national root.

/** Every trust anchor: given files, then configured ones, then Kyso's own roots when there is a CA. */
export async function trustAnchors(
  files: string[],
  dataDir: string | undefined,
  io: Io,
): Promise<Uint8Array[]> {
  const anchors = files.flatMap((f) => certificateFile(f, 'CA bundle'));
  // The configuration and the store are loaded only here: verification must not need them otherwise.
  const { loadConfig } = await import('../config.js');
  let config: Config;
  try {
    config = loadConfig({ dataDir });
  } catch (e) {
    io.err(
      `kyso: warning: the configuration cannot be read, so only --ca roots are trusted: ${(e as Error).message}\n`,
    );
    return anchors;
  }
  anchors.push(...config.trustAnchors.flatMap((f) => certificateFile(f, 'trust anchor')));
  anchors.push(...(await kysoRoots(config, io)));
  return anchors;
}

/** The root certificates of the Kyso CA in the data directory; none when it has no CA. */
async function kysoRoots(config: Config, io: Io): Promise<Uint8Array[]> {
  if (config.database.kind === 'sqlite' && !existsSync(config.database.file)) return [];
  const { Store } = await import('../store/index.js');
  try {
    const store = await Store.open(config.database);
    try {
      return (await store.cas.list()).filter((ca) => ca.role === 'root').map((ca) => ca.certificate);
    } finally {
      await store.close();
    }
  } catch (e) {
    io.err(
      `kyso: warning: Kyso's own roots cannot be read (${(e as Error).message}); only other roots are trusted\n`,
    );
    return [];
  }
}
