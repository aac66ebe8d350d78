import { execFile } from 'node:child_process';
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { openKeyBackend } from '../../src/keys/index.js';
import {
  buildCertificate,
  ext,
  hashOf,
  type KeySpec,
  keyIdentifier,
  randomSerial,
  type SignatureAlgorithm,
} from '../../src/pki/index.js';
import { run } from './env.js';

/** A throw-away private key from node:crypto and its SubjectPublicKeyInfo. */
export interface TestKey {
  spki: Uint8Array;
  privateKey: KeyObject;
}

/** A fresh key: 'ec' is P-256, 'rsa' is RSA-2048; Kyso's key specs are accepted too. */
export function makeKey(kind: 'ec' | 'P-256' | 'P-384' | 'rsa' | KeySpec = 'ec'): TestKey {
  const curve = kind === 'P-384' || kind === 'ec-p384' ? 'P-384' : 'P-256';
  const pair =
    kind === 'rsa' || kind.startsWith('rsa-')
      ? generateKeyPairSync('rsa', { modulusLength: kind === 'rsa' ? 2048 : Number(kind.slice(4)) })
      : generateKeyPairSync('ec', { namedCurve: curve });
  return {
    spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    privateKey: pair.privateKey,
  };
}

/** Signs data the way keys/ signers do: hashing per the algorithm, PSS with a digest-length salt. */
export function rawSign(key: KeyObject, alg: SignatureAlgorithm, data: Uint8Array): Uint8Array {
  const options = alg.startsWith('RSA-PSS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : key;
  return new Uint8Array(sign(hashOf(alg), data, options));
}

/** A key as the SignFunction pki's builders take. */
export function signFunction(key: TestKey, alg: SignatureAlgorithm) {
  return async (data: Uint8Array) => rawSign(key.privateKey, alg, data);
}

/** Runs a tool without throwing; `out` is stdout followed by stderr. */
export function runTool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const YEAR = 365 * 86_400_000;

/** A CA certificate (ECDSA-SHA256, valid from a year ago for ten years) for test hierarchies. */
export function testCaCertificate(subject: Uint8Array, key: TestKey, issuer: Uint8Array, issuerKey: TestKey) {
  const now = Date.now();
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer,
      subject,
      notBefore: new Date(now - YEAR),
      notAfter: new Date(now + 10 * YEAR),
      publicKey: key.spki,
      signatureAlgorithm: 'ECDSA-SHA256',
      extensions: [
        ext.basicConstraints(true),
        ext.keyUsage(['keyCertSign', 'cRLSign']),
        ext.subjectKeyIdentifier(keyIdentifier(key.spki)),
        ext.authorityKeyIdentifier(keyIdentifier(issuerKey.spki)),
      ],
    },
    signFunction(issuerKey, 'ECDSA-SHA256'),
  );
}

/** Writes a PKCS#12 file from PEM key and certificate files with `openssl pkcs12 -export` (OpenSSL 3 defaults). */
export function opensslP12(
  out: string,
  files: { key: string; cert: string; chain?: string },
  password: string,
  extra: string[] = [],
): void {
  const r = run('openssl', [
    'pkcs12',
    '-export',
    ...extra,
    '-inkey',
    files.key,
    '-in',
    files.cert,
    ...(files.chain ? ['-certfile', files.chain] : []),
    '-out',
    out,
    '-passout',
    `pass:${password}`,
  ]);
  if (r.code !== 0) throw new Error(`openssl pkcs12 -export failed: ${r.stderr}`);
}

/** Generates a key on a PKCS#11 token (SoftHSM2 in tests) under a label; returns its SubjectPublicKeyInfo. */
export async function tokenKey(
  token: { module: string; label: string; pin: string },
  keyLabel: string,
  spec: KeySpec = 'ec-p256',
): Promise<Uint8Array> {
  const backend = await openKeyBackend({
    kind: 'pkcs11',
    module: token.module,
    tokenLabel: token.label,
    pin: token.pin,
  });
  try {
    return (await backend.generateKey(keyLabel, spec)).publicKey;
  } finally {
    await backend.close();
  }
}
