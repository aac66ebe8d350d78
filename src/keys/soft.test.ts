import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KeySpec, SignatureAlgorithm } from '../pki/algorithms.js';
import { type KeyBackend, KeyError, openKeyBackend } from './index.js';
import { opensslVerifies, verifies } from './test-fixtures.js';

const PASSPHRASE = 'correct horse battery staple';
const data = Buffer.from('tbsCertificate stand-in');

let root: string;
let dir: string;
let backend: KeyBackend;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kyso-soft-'));
  dir = join(root, 'keys');
  backend = await openKeyBackend({ kind: 'soft', dir, passphrase: PASSPHRASE });
});

afterAll(async () => {
  await backend?.close();
  rmSync(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<KeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyError);
  return error as KeyError;
}

describe('soft backend: generate, sign, verify', () => {
  const cases: [KeySpec, SignatureAlgorithm][] = [
    ['ec-p256', 'ECDSA-SHA256'],
    ['ec-p384', 'ECDSA-SHA384'],
    ['rsa-2048', 'RSA-PSS-SHA256'],
    ['rsa-2048', 'RSA-PKCS1-SHA256'],
    ['rsa-3072', 'RSA-PSS-SHA384'],
    ['rsa-4096', 'RSA-PKCS1-SHA512'],
  ];
  test.each(cases)('%s with %s', async (spec, algorithm) => {
    const label = `${spec}-${algorithm}`;
    const key = await backend.generateKey(label, spec);
    expect(key).toMatchObject({ ref: `soft:${label}`, spec });
    const signer = await backend.signer(key.ref, algorithm);
    expect(signer.algorithm).toBe(algorithm);
    expect(Buffer.from(signer.publicKey).equals(Buffer.from(key.publicKey))).toBe(true);
    expect(Buffer.from(await backend.publicKey(key.ref)).equals(Buffer.from(key.publicKey))).toBe(true);
    const signature = await signer.sign(data);
    expect(verifies(key.publicKey, algorithm, data, signature)).toBe(true);
    expect(verifies(key.publicKey, algorithm, Buffer.from('other data'), signature)).toBe(false);
  });

  test.each([
    ['ec-p256', 'ECDSA-SHA256'],
    ['rsa-2048', 'RSA-PSS-SHA256'],
  ] as [KeySpec, SignatureAlgorithm][])('openssl verifies a %s %s signature', async (spec, algorithm) => {
    const signer = await backend.signer(`soft:${spec}-${algorithm}`, algorithm);
    expect(opensslVerifies(signer.publicKey, algorithm, data, await signer.sign(data))).toBe(true);
  });

  test('a signer from a reopened backend signs with the same key', async () => {
    const reopened = await openKeyBackend({ kind: 'soft', dir, passphrase: PASSPHRASE });
    const signer = await reopened.signer('soft:ec-p256-ECDSA-SHA256', 'ECDSA-SHA256');
    const original = await backend.publicKey('soft:ec-p256-ECDSA-SHA256');
    expect(verifies(original, 'ECDSA-SHA256', data, await signer.sign(data))).toBe(true);
    await reopened.close();
  });
});

describe('soft backend: files at rest', () => {
  test('directory is 0700, key files 0600, and the file holds no plaintext key', async () => {
    const key = await backend.generateKey('at-rest', 'ec-p256');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const path = join(dir, 'at-rest.key.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file).toMatchObject({
      version: 1,
      spec: 'ec-p256',
      publicKey: Buffer.from(key.publicKey).toString('base64'),
      kdf: { name: 'scrypt', N: 2 ** 15, r: 8, p: 1 },
      cipher: 'aes-256-gcm',
    });
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(file.iv, 'base64')).toHaveLength(12);
    expect(readFileSync(path, 'utf8')).not.toMatch(/PRIVATE/);
  });

  test('a signer shows no key material when inspected or serialised', async () => {
    const signer = await backend.signer('soft:at-rest', 'ECDSA-SHA256');
    expect(Object.keys(signer).sort()).toEqual(['algorithm', 'publicKey', 'sign']);
    expect(inspect(signer, { depth: 5, showHidden: true })).not.toMatch(/KeyObject|private/i);
    expect(JSON.stringify(signer)).not.toMatch(/private/i);
  });
});

describe('soft backend: bad input', () => {
  test('a wrong passphrase fails when opening a directory that holds keys', async () => {
    const error = await rejection(openKeyBackend({ kind: 'soft', dir, passphrase: 'wrong' }));
    expect(error.code).toBe('wrong-passphrase');
  });

  test('a wrong passphrase fails at signer() for a key made under another passphrase', async () => {
    const other = join(root, 'other');
    const first = await openKeyBackend({ kind: 'soft', dir: other, passphrase: 'first' });
    await first.generateKey('k', 'ec-p256');
    await first.close();
    // Replace the only key so opening succeeds, then bring the original back.
    const original = readFileSync(join(other, 'k.key.json'));
    rmSync(join(other, 'k.key.json'));
    const second = await openKeyBackend({ kind: 'soft', dir: other, passphrase: 'second' });
    writeFileSync(join(other, 'k.key.json'), original, { mode: 0o600 });
    expect((await rejection(second.signer('soft:k', 'ECDSA-SHA256'))).code).toBe('wrong-passphrase');
    await second.close();
  });

  test('the passphrase is compared in Unicode NFC, so NFD input opens the same keys', async () => {
    const vi = join(root, 'vi');
    const nfc = 'mật khẩu'.normalize('NFC');
    const first = await openKeyBackend({ kind: 'soft', dir: vi, passphrase: nfc });
    await first.generateKey('k', 'ec-p256');
    await first.close();
    const second = await openKeyBackend({ kind: 'soft', dir: vi, passphrase: nfc.normalize('NFD') });
    await expect(second.signer('soft:k', 'ECDSA-SHA256')).resolves.toBeDefined();
    await second.close();
  });

  describe('tampered key files fail with a KeyError', () => {
    const tampered = (label: string, change: (text: string) => string) => {
      const path = join(dir, `${label}.key.json`);
      writeFileSync(path, change(readFileSync(path, 'utf8')));
    };

    test('a flipped ciphertext byte', async () => {
      await backend.generateKey('flip', 'ec-p256');
      const path = join(dir, 'flip.key.json');
      const file = JSON.parse(readFileSync(path, 'utf8'));
      const ciphertext = Buffer.from(file.ciphertext, 'base64');
      ciphertext[10] ^= 0x01;
      file.ciphertext = ciphertext.toString('base64');
      writeFileSync(path, JSON.stringify(file));
      expect((await rejection(backend.signer('soft:flip', 'ECDSA-SHA256'))).code).toBe('wrong-passphrase');
    });

    test('one flipped bit anywhere in the file gives a KeyError, never a crash or a signer', async () => {
      await backend.generateKey('bits', 'ec-p256');
      const path = join(dir, 'bits.key.json');
      const original = readFileSync(path);
      for (let i = 0; i < 12; i++) {
        const copy = Buffer.from(original);
        copy[Math.floor((i * copy.length) / 12) + 3] ^= 0x04;
        writeFileSync(path, copy);
        expect(await rejection(backend.signer('soft:bits', 'ECDSA-SHA256'))).toBeInstanceOf(KeyError);
      }
    });

    test('a swapped public key in the header', async () => {
      await backend.generateKey('swap-a', 'ec-p256');
      const b = await backend.generateKey('swap-b', 'ec-p256');
      tampered('swap-a', (text) => {
        const file = JSON.parse(text);
        file.publicKey = Buffer.from(b.publicKey).toString('base64');
        return JSON.stringify(file);
      });
      expect((await rejection(backend.signer('soft:swap-a', 'ECDSA-SHA256'))).code).toBe('wrong-passphrase');
    });

    test('a key file copied under another label', async () => {
      await backend.generateKey('renamed-src', 'ec-p256');
      writeFileSync(join(dir, 'renamed-dst.key.json'), readFileSync(join(dir, 'renamed-src.key.json')));
      expect((await rejection(backend.signer('soft:renamed-dst', 'ECDSA-SHA256'))).code).toBe(
        'wrong-passphrase',
      );
    });

    test('a changed spec, truncated JSON and an absurd KDF cost', async () => {
      await backend.generateKey('spec', 'ec-p256');
      await backend.generateKey('truncated', 'ec-p256');
      await backend.generateKey('cost', 'ec-p256');
      tampered('spec', (text) => text.replace('"ec-p256"', '"ec-p384"'));
      tampered('truncated', (text) => text.slice(0, 40));
      tampered('cost', (text) => text.replace('"N": 32768', '"N": 1073741824'));
      expect((await rejection(backend.signer('soft:spec', 'ECDSA-SHA384'))).code).toBe('wrong-passphrase');
      expect((await rejection(backend.signer('soft:truncated', 'ECDSA-SHA256'))).code).toBe('device-error');
      expect((await rejection(backend.signer('soft:cost', 'ECDSA-SHA256'))).code).toBe('device-error');
    });
  });

  test('a duplicate label is refused and the existing key is kept', async () => {
    const first = await backend.generateKey('dup', 'ec-p256');
    expect((await rejection(backend.generateKey('dup', 'ec-p384'))).code).toBe('key-exists');
    expect(Buffer.from(await backend.publicKey('soft:dup')).equals(Buffer.from(first.publicKey))).toBe(true);
  });

  test('two concurrent generateKey calls for one label: one wins, one gets key-exists', async () => {
    const results = await Promise.allSettled([
      backend.generateKey('race', 'ec-p256'),
      backend.generateKey('race', 'ec-p256'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ code: 'key-exists' });
  });

  test('labels that are not file-name safe are refused', async () => {
    for (const label of ['', '../escape', 'a/b', 'x'.repeat(65), 'sp ace']) {
      expect((await rejection(backend.generateKey(label, 'ec-p256'))).code).toBe('invalid-input');
    }
  });

  test('unknown keys, foreign refs and mismatched algorithms', async () => {
    expect((await rejection(backend.signer('soft:nope', 'ECDSA-SHA256'))).code).toBe('key-not-found');
    expect((await rejection(backend.publicKey('soft:nope'))).code).toBe('key-not-found');
    expect((await rejection(backend.signer('pkcs11:dup', 'ECDSA-SHA256'))).code).toBe('key-not-found');
    expect((await rejection(backend.signer('soft:../dup', 'ECDSA-SHA256'))).code).toBe('key-not-found');
    expect((await rejection(backend.signer('soft:dup', 'RSA-PSS-SHA256'))).code).toBe('algorithm-mismatch');
  });

  test('an unknown spec is unsupported', async () => {
    const error = await rejection(backend.generateKey('ed', 'ed25519' as KeySpec));
    expect(error.code).toBe('unsupported');
  });

  test('after close(), existing signers and the backend refuse to work', async () => {
    const own = await openKeyBackend({ kind: 'soft', dir, passphrase: PASSPHRASE });
    const signer = await own.signer('soft:dup', 'ECDSA-SHA256');
    await own.close();
    expect((await rejection(signer.sign(data))).code).toBe('device-error');
    expect((await rejection(own.signer('soft:dup', 'ECDSA-SHA256'))).code).toBe('device-error');
  });
});
