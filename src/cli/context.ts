import { hostname, userInfo } from 'node:os';
import { CertificateAuthority } from '../ca/index.js';
import { type Config, loadConfig } from '../config.js';
import { UsageError } from './errors.js';

/** Opens the CA of the data directory a command names, and closes it however the command ends. */
export async function withAuthority<T>(
  dataDir: string | undefined,
  fn: (ca: CertificateAuthority, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir });
  const ca = await CertificateAuthority.open(config);
  try {
    return await fn(ca, config);
  } finally {
    await ca.close();
  }
}

/**
 * Who the audit log records for command-line work: the operator's name (--actor, else
 * KYSO_ACTOR) and the OS account and host it ran under, or only the latter.
 */
export function cliActor(named?: string): string {
  const user = process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? osUser();
  const account = `${user}@${hostname()}`;
  const name = (named ?? process.env.KYSO_ACTOR)?.trim();
  if (name !== undefined && name === '') throw new UsageError('--actor (or KYSO_ACTOR) must not be empty');
  return name ? `${name} (${account})` : account;
}

// userInfo() throws for a uid without a passwd entry (some containers).
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
