import { defaultCeremony, runCeremony } from '../ca/index.js';
import { loadConfig } from '../config.js';
import { KEY_SPECS, type KeySpec } from '../pki/index.js';
import { intOption, parseArgs } from './args.js';
import { cliActor } from './context.js';
import { UsageError } from './errors.js';
import { type Io, printJson } from './output.js';

export const INIT_HELP = `kyso init [options]: the key ceremony (root CA, issuing CA, OCSP and TSA certificates)
  --root-name DN        root CA subject (default "C=VN, O=Kyso, CN=Kyso Root CA")
  --issuing-name DN     issuing CA subject (default "C=VN, O=Kyso, CN=Kyso Issuing CA")
  --key-type TYPE       ${KEY_SPECS.join(' | ')} (default ec-p256)
  --rsa-padding P       pss (default, TT 15/2025) | pkcs1
  --root-days N         root validity (default 7305, 20 years)
  --issuing-days N      issuing CA validity (default 3653)
  --root-id ID, --issuing-id ID   ids used in URLs (default root, issuing)
  --backend B           soft (default) | pkcs11 (with KYSO_PKCS11_TOKEN, KYSO_PKCS11_PIN)
  --pkcs11-module PATH, --token-label LABEL
  --public-url URL      base URL baked into certificates (default KYSO_PUBLIC_URL or http://127.0.0.1:8080)
  --demo                mark the CA as a demo CA`;

/** `kyso init`: runs the key ceremony on an empty data directory and prints the fingerprints. */
export async function initCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      'root-name': { type: 'string' },
      'issuing-name': { type: 'string' },
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
  if (values.help) {
    io.out(`${INIT_HELP}\n`);
    return 0;
  }
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
  const d = defaultCeremony();
  const result = await runCeremony(config, {
    ...d,
    rootName: values['root-name'] ?? d.rootName,
    issuingName: values['issuing-name'] ?? d.issuingName,
    keySpec: keyType as KeySpec,
    rsaPadding: padding,
    rootDays: intOption(values['root-days'], 'root-days') ?? d.rootDays,
    issuingDays: intOption(values['issuing-days'], 'issuing-days') ?? d.issuingDays,
    rootId: values['root-id'] ?? d.rootId,
    issuingId: values['issuing-id'] ?? d.issuingId,
    actor: cliActor(),
    demo: values.demo,
  });
  if (values.json) {
    printJson(io, result);
    return 0;
  }
  io.out(`Kyso CA initialized in ${config.dataDir} (${config.keys.backend} keys)\n`);
  for (const ca of result.cas) {
    io.out(
      `  ${ca.role.padEnd(8)} ${ca.id}: ${ca.subject}\n           valid until ${ca.notAfter.toISOString()}\n           SHA-256 ${ca.fingerprint}\n`,
    );
  }
  for (const s of result.services) io.out(`  ${s.name.padEnd(8)} ${s.serial}: ${s.subject}\n`);
  if (result.passphraseFile) {
    io.out(
      `The soft-key passphrase was written to ${result.passphraseFile}: keep a copy offline and restrict it.\n`,
    );
  }
  return 0;
}
