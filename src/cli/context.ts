import { CertificateAuthority } from '../ca/index.js';
import { type Config, loadConfig } from '../config.js';

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

/** The actor recorded in the audit log for command-line work. */
export function cliActor(): string {
  return `cli:${process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
}
