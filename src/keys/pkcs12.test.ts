import { execFileSync } from 'node:child_process';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWith, tempDir, toolMissing } from '../../test/support/env.js';
import { KeyError, p12Signer, readPkcs12 } from './index.js';

const PASSWORD = 'mật khẩu';
let tmp: ReturnType<typeof tempDir>;

/** Runs openssl in the temporary directory. */
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: tmp.dir, stdio: 'ignore' });
}

/** A self-signed certificate and key, exported as PKCS#12 with the given extra openssl flags. */
function p12(name: string, keyArgs: string[], extra: string[], withChain = false): Uint8Array {
  openssl(
    'req',
    '-x509',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
  );
  const chain = withChain ? ['-certfile', 'ca.crt'] : [];
  openssl(
    'pkcs12',
    '-export',
    ...extra,
    '-inkey',
    `${name}.key`,
    '-in',
    `${name}.crt`,
    ...chain,
    '-out',
    `${name}.p12`,
    '-passout',
    `pass:${PASSWORD}`,
  );
  return readFileSync(join(tmp.dir, `${name}.p12`));
}

function certDer(name: string): Buffer {
  return new X509Certificate(readFileSync(join(tmp.dir, `${name}.crt`))).raw;
}

function keyError(f: () => unknown): KeyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KeyError);
    return e as KeyError;
  }
  throw new Error('expected a KeyError');
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const RSA = ['-newkey', 'rsa:2048'];

describeWith(toolMissing('openssl'), 'PKCS#12 files from openssl pkcs12 -export', () => {
  beforeAll(() => {
    tmp = tempDir('kyso-p12-');
    openssl(
      'req',
      '-x509',
      ...EC,
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=ca',
      '-days',
      '2',
    );
  });
  afterAll(() => tmp?.remove());

  test.each([
    ['EC, OpenSSL 3 default (PBES2/AES-256, SHA-256 MAC)', 'ec', EC, [], 'ECDSA-SHA256'],
    ['RSA, OpenSSL 3 default', 'rsa', RSA, [], 'RSA-PSS-SHA256'],
    [
      'RSA, 3DES for key and certificates, SHA-1 MAC',
      'rsa3des',
      RSA,
      ['-legacy', '-certpbe', 'PBE-SHA1-3DES'],
      'RSA-PSS-SHA256',
    ],
    ['EC, -legacy (3DES key, RC2-40 certificates, SHA-1 MAC)', 'legacy', EC, ['-legacy'], 'ECDSA-SHA256'],
    ['RSA, -legacy', 'rsalegacy', RSA, ['-legacy'], 'RSA-PSS-SHA256'],
    [
      'EC, -legacy with RC2-128 certificates',
      'rc2128',
      EC,
      ['-legacy', '-certpbe', 'PBE-SHA1-RC2-128'],
      'ECDSA-SHA256',
    ],
  ] as const)('%s: key, certificate and chain; the signer signs', async (_, name, keyArgs, extra, alg) => {
    const contents = readPkcs12(p12(name, [...keyArgs], [...extra], true), PASSWORD);
    expect(Buffer.from(contents.certificate)).toEqual(certDer(name));
    expect(contents.chain.map((c) => Buffer.from(c))).toEqual([certDer('ca')]);
    const signer = p12Signer(contents);
    expect(signer.algorithm).toBe(alg);
    const data = Buffer.from('to be signed');
    const signature = await signer.sign(data);
    const publicKey = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' });
    const options = alg.startsWith('RSA-PSS') ? { key: publicKey, padding: 6, saltLength: 32 } : publicKey;
    expect(verify('sha256', data, options, signature)).toBe(true);
  });

  test('RSA with --rsa-padding pkcs1', async () => {
    const signer = p12Signer(
      readPkcs12(readFileSync(join(tmp.dir, 'rsa.p12')), PASSWORD),
      'RSA-PKCS1-SHA256',
    );
    expect(signer.algorithm).toBe('RSA-PKCS1-SHA256');
    expect(
      keyError(() => p12Signer(readPkcs12(readFileSync(join(tmp.dir, 'ec.p12')), PASSWORD), 'RSA-PSS-SHA256'))
        .code,
    ).toBe('algorithm-mismatch');
  });

  test('a wrong password is wrong-passphrase, for default and legacy files', () => {
    expect(keyError(() => readPkcs12(readFileSync(join(tmp.dir, 'ec.p12')), 'wrong')).code).toBe(
      'wrong-passphrase',
    );
    expect(keyError(() => readPkcs12(readFileSync(join(tmp.dir, 'legacy.p12')), 'wrong')).code).toBe(
      'wrong-passphrase',
    );
  });

  test('an iteration count past 1,000,000 is refused before any derivation runs', () => {
    // The MAC at one iteration, the bags at 1,100,000: the count alone refuses the file.
    const file = p12('manyiter', EC, ['-nomaciter', '-iter', '1100000']);
    const e = keyError(() => readPkcs12(file, PASSWORD));
    expect(e.code).toBe('invalid-input');
    expect(e.message).toBe(
      'not a readable PKCS#12 file: 1100000 iterations is out of bounds (at most 1,000,000)',
    );
  });

  test('so is a file whose derivations together would take more than a few seconds', () => {
    // Each count allowed, but 3DES and RC2 derive in JavaScript, key and IV apart: far past the budget.
    const file = p12('manyrounds', EC, ['-legacy', '-nomaciter', '-iter', '1000000']);
    const e = keyError(() => readPkcs12(file, PASSWORD));
    expect(e.code).toBe('invalid-input');
    expect(e.message).toBe(
      'not a readable PKCS#12 file: its key derivations would take more than 10,000,000 rounds',
    );
  });

  test('garbage and truncated files are invalid-input', () => {
    expect(keyError(() => readPkcs12(Buffer.from('not a pfx at all'), PASSWORD)).code).toBe('invalid-input');
    const good = readFileSync(join(tmp.dir, 'ec.p12'));
    expect(keyError(() => readPkcs12(good.subarray(0, good.length - 10), PASSWORD)).code).toBe(
      'invalid-input',
    );
  });
});
