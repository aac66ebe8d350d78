import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type CeremonyOptions,
  CertificateAuthority,
  defaultCeremony,
  runCeremony,
} from '../../src/ca/index.js';
import { type Config, loadConfig } from '../../src/config.js';
import { toPem } from '../../src/pki/index.js';
import { freshPostgres, run, type TestDatabase } from './env.js';

export type KeyKind =
  | 'ec-p256'
  | 'ec-p384'
  | 'ec-p521'
  | 'rsa-1024'
  | 'rsa-2048'
  | 'rsa-2048-pss'
  | 'ed25519';

/** A CSR made by `openssl req`, an independent tool, for a fresh key of the given kind. */
export function opensslCsr(
  dir: string,
  name: string,
  kind: KeyKind,
  subj = '/C=VN/O=Kyso Test/CN=Test Subscriber',
): { csr: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const keyArgs: Record<KeyKind, string[]> = {
    'ec-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    'ec-p384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    'ec-p521': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'],
    'rsa-1024': ['-newkey', 'rsa:1024'],
    'rsa-2048': ['-newkey', 'rsa:2048'],
    'rsa-2048-pss': [
      '-newkey',
      'rsa:2048',
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      'rsa_pss_saltlen:32',
    ],
    ed25519: ['-newkey', 'ed25519'],
  };
  const r = run('openssl', [
    'req',
    '-new',
    ...keyArgs[kind],
    '-nodes',
    '-keyout',
    key,
    '-subj',
    subj,
    '-utf8',
    '-sha256',
    '-out',
    csr,
  ]);
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { csr, key };
}

export interface TestCa {
  config: Config;
  ca: CertificateAuthority;
  dir: string;
  /** PEM files of the root and of the issuing CA, for openssl and certtool. */
  rootPem: string;
  issuingPem: string;
  close(): Promise<void>;
}

/** Environment for a data directory on the given database and key backend. */
export async function testEnv(
  db: TestDatabase,
  backend: { kind: 'soft' } | { kind: 'pkcs11'; module: string; label: string; pin: string },
): Promise<{ env: NodeJS.ProcessEnv; drop(): Promise<void> }> {
  const env: NodeJS.ProcessEnv = { KYSO_PUBLIC_URL: 'http://kyso.test' };
  let drop = async () => {};
  if (db.name === 'postgres') {
    const pgdb = await freshPostgres(db.url!);
    env.KYSO_DATABASE_URL = pgdb.url;
    drop = pgdb.drop;
  }
  if (backend.kind === 'pkcs11') {
    Object.assign(env, {
      KYSO_KEY_BACKEND: 'pkcs11',
      KYSO_PKCS11_MODULE: backend.module,
      KYSO_PKCS11_TOKEN: backend.label,
      KYSO_PKCS11_PIN: backend.pin,
    });
  }
  return { env, drop };
}

/** Runs the key ceremony in `dir` and opens the CA. */
export async function initTestCa(
  dir: string,
  env: NodeJS.ProcessEnv,
  options: Partial<CeremonyOptions> = {},
): Promise<TestCa> {
  const config = loadConfig({ dataDir: path.join(dir, 'data'), env });
  await runCeremony(config, { ...defaultCeremony(), ...options });
  const ca = await CertificateAuthority.open(config);
  const [issuing, root] = await ca.chain();
  const rootPem = path.join(dir, 'root.pem');
  const issuingPem = path.join(dir, 'issuing.pem');
  writeFileSync(rootPem, toPem('CERTIFICATE', root.certificate));
  writeFileSync(issuingPem, toPem('CERTIFICATE', issuing.certificate));
  return { config, ca, dir, rootPem, issuingPem, close: () => ca.close() };
}

/** Writes a DER certificate or CRL as PEM and returns its path. */
export function writePem(
  dir: string,
  name: string,
  label: 'CERTIFICATE' | 'X509 CRL',
  der: Uint8Array,
): string {
  const file = path.join(dir, name);
  writeFileSync(file, toPem(label, der));
  return file;
}

/** `openssl x509 -text` of a certificate, with UTF-8 names. */
export function x509Text(file: string): string {
  const r = run('openssl', ['x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
