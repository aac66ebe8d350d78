import { auditKeyFingerprint } from '../auth/index.js';
import { defaultCeremony, runCeremony } from '../ca/index.js';
import { type Config, loadConfig } from '../config.js';
import { KEY_SPECS, type KeySpec } from '../pki/index.js';
import { intOption, parseArgs } from './args.js';
import { cliActor } from './context.js';
import { UsageError } from './errors.js';
import { type Io, printJson } from './output.js';

export const INIT_HELP = `kyso init [options]: the key ceremony (root CA, issuing CA, OCSP and TSA certificates, audit key)
  --root-name DN        root CA subject, e.g. "C=VN, O=Ban Cơ yếu Chính phủ, CN=Root CA G1" (required
                        unless --demo)
  --issuing-name DN     issuing CA subject (default: the root's C and O, CN "<O> Issuing CA")
  --ocsp-name DN        OCSP responder subject (default: the root's C and O, CN "<O> OCSP Responder")
  --tsa-name DN         time-stamp authority subject (default: CN "<O> Time-Stamp Authority")
  --root-data DIR       an OFFLINE root: its key and records go to DIR (e.g. removable media), never
                        to --data; the root's pre-signed CRL and OCSP answers go to --data
  --root-backend B, --root-pkcs11-module PATH, --root-token-label LABEL
                        the offline root's key backend (default: soft keys in DIR; the PIN from
                        KYSO_ROOT_PKCS11_PIN or KYSO_ROOT_PKCS11_PIN_FILE)
  --presigned-days N    validity of the offline root's pre-signed CRL and OCSP answers (default 365)
  --key-type TYPE       ${KEY_SPECS.join(' | ')} (default ec-p256)
  --rsa-padding P       pss (default, TT 15/2025) | pkcs1
  --root-days N         root validity (default 7305, 20 years)
  --issuing-days N      issuing CA validity (default 3653)
  --root-id ID, --issuing-id ID   ids used in URLs (default root, issuing)
  --backend B           soft (default) | pkcs11 (with KYSO_PKCS11_TOKEN, KYSO_PKCS11_PIN)
  --pkcs11-module PATH, --token-label LABEL
  --public-url URL      base URL baked into certificates (default KYSO_PUBLIC_URL or http://127.0.0.1:8080)
  --demo                mark the CA as a demo CA (default names say "Kyso Demo")`;

/** `kyso init`: runs the key ceremony on an empty data directory and prints the fingerprints. */
export async function initCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      'root-name': { type: 'string' },
      'issuing-name': { type: 'string' },
      'ocsp-name': { type: 'string' },
      'tsa-name': { type: 'string' },
      'root-data': { type: 'string' },
      'root-backend': { type: 'string' },
      'root-pkcs11-module': { type: 'string' },
      'root-token-label': { type: 'string' },
      'presigned-days': { type: 'string' },
      'key-type': { type: 'string' },
      'rsa-padding': { type: 'string' },
      'root-days': { type: 'string' },
      'issuing-days': { type: 'string' },
      'root-id': { type: 'string' },
      'issuing-id': { type: 'string' },
      backend: { type: 'string' },
      'pkcs11-module': { type: 'string' },
      'token-label': { type: 'string' },
      'public-url': { type: 'string' },
      demo: { type: 'boolean' },
    },
    { min: 0, max: 0, usage: 'kyso init [options]' },
  );
  const env = { ...process.env };
  if (values.backend) env.KYSO_KEY_BACKEND = values.backend;
  if (values['pkcs11-module']) env.KYSO_PKCS11_MODULE = values['pkcs11-module'];
  if (values['token-label']) env.KYSO_PKCS11_TOKEN = values['token-label'];
  if (values['public-url']) env.KYSO_PUBLIC_URL = values['public-url'];
  const config = loadConfig({ dataDir: values.data, env });

  const keyType = values['key-type'] ?? 'ec-p256';
  if (!(KEY_SPECS as readonly string[]).includes(keyType))
    throw new UsageError(`--key-type must be one of ${KEY_SPECS.join(', ')}`);
  const padding = values['rsa-padding'] ?? 'pss';
  if (padding !== 'pss' && padding !== 'pkcs1') throw new UsageError('--rsa-padding must be pss or pkcs1');
  const rootName = values['root-name'] ?? (values.demo ? DEMO_ROOT : undefined);
  if (!rootName)
    throw new UsageError(
      '--root-name is required: a real CA names its own root (or use --demo to try Kyso out)',
    );
  const offlineRoot = values['root-data'] ? rootConfig(values, env, config.publicUrl) : undefined;
  const d = defaultCeremony();
  const result = await runCeremony(config, {
    ...d,
    rootName,
    // Names not given are derived from the root's by the ceremony.
    issuingName: values['issuing-name'],
    ocspName: values['ocsp-name'],
    tsaName: values['tsa-name'],
    offlineRoot: offlineRoot && {
      config: offlineRoot,
      presignedDays:
        intOption(values['presigned-days'], 'presigned-days') ?? config.offlineRoot.presignedDays,
    },
    keySpec: keyType as KeySpec,
    rsaPadding: padding,
    rootDays: intOption(values['root-days'], 'root-days') ?? d.rootDays,
    issuingDays: intOption(values['issuing-days'], 'issuing-days') ?? d.issuingDays,
    rootId: values['root-id'] ?? d.rootId,
    issuingId: values['issuing-id'] ?? d.issuingId,
    actor: cliActor(values.actor),
    demo: values.demo,
  });
  if (values.json) {
    printJson(io, result);
    return 0;
  }
  io.out(`Kyso CA initialized in ${config.dataDir} (${config.keys.backend} keys)\n`);
  for (const ca of result.cas) {
    io.out(
      `  ${ca.role.padEnd(8)} ${ca.id}: ${ca.subject}\n           valid until ${ca.notAfter.toISOString()}\n           SHA-256 ${ca.fingerprint}\n           key in ${ca.dataDir}\n`,
    );
  }
  for (const s of result.services) io.out(`  ${s.name.padEnd(8)} ${s.serial}: ${s.subject}\n`);
  io.out(`  audit key SHA-256 ${auditKeyFingerprint(result.auditKey)}\n`);
  if (result.presignedUntil) {
    io.out(
      `The offline root pre-signed its CRL and OCSP answers until ${result.presignedUntil.toISOString()}: renew them with \`kyso root crl\` and \`kyso root ocsp\` before then (docs/operator/offline-root.md).\n`,
    );
  }
  if (result.rootPassphraseFile) {
    io.out(
      `The offline root's soft-key passphrase was written to ${result.rootPassphraseFile}: keep it apart from the root's data directory.\n`,
    );
  }
  if (result.passphraseFile) {
    io.out(
      `The soft-key passphrase was written to ${result.passphraseFile}: keep a copy offline and restrict it.\n`,
    );
  }
  return 0;
}

const DEMO_ROOT = 'C=VN, O=Kyso Demo (không dùng thật), CN=Kyso Demo Root CA';

/** The offline root's data directory: its own SQLite database and key backend, never the online ones. */
function rootConfig(
  values: {
    'root-data'?: string;
    'root-backend'?: string;
    'root-pkcs11-module'?: string;
    'root-token-label'?: string;
  },
  env: NodeJS.ProcessEnv,
  publicUrl: string,
): Config {
  const rootEnv: NodeJS.ProcessEnv = {
    KYSO_PUBLIC_URL: publicUrl,
    KYSO_KEY_BACKEND: values['root-backend'],
    KYSO_PKCS11_MODULE: values['root-pkcs11-module'],
    KYSO_PKCS11_TOKEN: values['root-token-label'],
    KYSO_PKCS11_PIN: env.KYSO_ROOT_PKCS11_PIN,
    KYSO_PKCS11_PIN_FILE: env.KYSO_ROOT_PKCS11_PIN_FILE,
    KYSO_KEY_PASSPHRASE: env.KYSO_ROOT_KEY_PASSPHRASE,
    KYSO_KEY_PASSPHRASE_FILE: env.KYSO_ROOT_KEY_PASSPHRASE_FILE,
  };
  for (const k of Object.keys(rootEnv)) if (rootEnv[k] === undefined) delete rootEnv[k];
  return loadConfig({ dataDir: values['root-data'], env: rootEnv });
}
