import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { hashOf, type SignatureAlgorithm } from '../pki/algorithms.js';

/** Checks a signature with node:crypto against the SPKI, the way a relying party would. */
export function verifies(
  spki: Uint8Array,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const hash = hashOf(algorithm);
  const options = algorithm.startsWith('ECDSA')
    ? { key, dsaEncoding: 'der' as const }
    : algorithm.startsWith('RSA-PSS')
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(hash.slice(3)) / 8 }
      : { key, padding: constants.RSA_PKCS1_PADDING };
  return verify(hash, data, options, signature);
}

/** Checks a signature with the openssl command, an implementation independent of ours and of Node's bindings. */
export function opensslVerifies(
  spki: Uint8Array,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-openssl-'));
  try {
    const pem = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
      type: 'spki',
      format: 'pem',
    });
    writeFileSync(join(dir, 'pub.pem'), pem);
    writeFileSync(join(dir, 'data'), data);
    writeFileSync(join(dir, 'sig'), signature);
    const hash = hashOf(algorithm);
    const pss = algorithm.startsWith('RSA-PSS')
      ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${Number(hash.slice(3)) / 8}`]
      : [];
    const args = ['dgst', `-${hash}`, '-verify', 'pub.pem', ...pss, '-signature', 'sig', 'data'];
    try {
      return (
        execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }).trim() === 'Verified OK'
      );
    } catch {
      return false;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The SoftHSM2 library the tests load; KYSO_SOFTHSM_MODULE overrides the Debian path. */
export const SOFTHSM_MODULE = process.env.KYSO_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

/** Why SoftHSM2 tests cannot run here, or undefined when they can. */
export function softHsmMissing(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `no PKCS#11 module at ${SOFTHSM_MODULE}`;
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'softhsm2-util is not on PATH';
  }
  return undefined;
}

/** A describe block that needs SoftHSM2: skipped with the reason, or failing when KYSO_TEST_STRICT=1. */
export function describeSoftHsm(name: string, body: () => void): void {
  const missing = softHsmMissing();
  if (missing && process.env.KYSO_TEST_STRICT === '1') {
    describe(name, () => {
      test('SoftHSM2 is available (KYSO_TEST_STRICT=1)', () => {
        throw new Error(missing);
      });
    });
    return;
  }
  describe.skipIf(missing !== undefined)(missing ? `${name} (skipped: ${missing})` : name, body);
}

/** A throw-away SoftHSM2 token directory, made this process's SOFTHSM2_CONF before the library loads. */
export function tempSoftHsm(): {
  dir: string;
  initToken(label: string, soPin: string, pin: string): void;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    initToken(label, soPin, pin) {
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
        {
          env: { ...process.env, SOFTHSM2_CONF: conf },
          stdio: 'ignore',
        },
      );
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
