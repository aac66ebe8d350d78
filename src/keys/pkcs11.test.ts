import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KeySpec, SignatureAlgorithm } from '../pki/algorithms.js';
import { type KeyBackend, KeyError, openKeyBackend } from './index.js';
import { acquireModule, ck, findToken } from './pkcs11-module.js';
import { describeSoftHsm, opensslVerifies, SOFTHSM_MODULE, tempSoftHsm, verifies } from './test-fixtures.js';

const TOKEN = 'kyso-test';
const OTHER_TOKEN = 'kyso-other';
const PIN = '5678';
const data = Buffer.from('tbsCertificate stand-in');

async function rejection(promise: Promise<unknown>): Promise<KeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyError);
  return error as KeyError;
}

describeSoftHsm('pkcs11 backend on SoftHSM2', () => {
  let hsm: ReturnType<typeof tempSoftHsm>;
  let backend: KeyBackend;
  const open = (o: { tokenLabel?: string; pin?: string; poolSize?: number } = {}) =>
    openKeyBackend({ kind: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: TOKEN, pin: PIN, ...o });

  beforeAll(async () => {
    hsm = tempSoftHsm();
    hsm.initToken(TOKEN, '1234', PIN);
    hsm.initToken(OTHER_TOKEN, '1234', PIN);
    backend = await open();
  });

  afterAll(async () => {
    await backend?.close();
    hsm?.remove();
  });

  describe('generate, sign, verify', () => {
    const cases: [KeySpec, SignatureAlgorithm][] = [
      ['ec-p256', 'ECDSA-SHA256'],
      ['ec-p384', 'ECDSA-SHA384'],
      ['rsa-2048', 'RSA-PSS-SHA256'],
      ['rsa-2048', 'RSA-PKCS1-SHA256'],
    ];
    test.each(cases)('%s with %s', async (spec, algorithm) => {
      const label = `${spec}-${algorithm}`;
      const key = await backend.generateKey(label, spec);
      expect(key).toMatchObject({ ref: `pkcs11:${label}`, spec });
      const signer = await backend.signer(key.ref, algorithm);
      expect(Buffer.from(signer.publicKey).equals(Buffer.from(key.publicKey))).toBe(true);
      expect(Buffer.from(await backend.publicKey(key.ref)).equals(Buffer.from(key.publicKey))).toBe(true);
      const signature = await signer.sign(data);
      expect(verifies(key.publicKey, algorithm, data, signature)).toBe(true);
      expect(verifies(key.publicKey, algorithm, Buffer.from('other data'), signature)).toBe(false);
    });

    test('other hashes on the same keys (ECDSA-SHA512 on P-256, RSA-PSS-SHA512, RSA-PKCS1-SHA384)', async () => {
      for (const [ref, algorithm] of [
        ['pkcs11:ec-p256-ECDSA-SHA256', 'ECDSA-SHA512'],
        ['pkcs11:rsa-2048-RSA-PSS-SHA256', 'RSA-PSS-SHA512'],
        ['pkcs11:rsa-2048-RSA-PSS-SHA256', 'RSA-PKCS1-SHA384'],
      ] as [string, SignatureAlgorithm][]) {
        const signer = await backend.signer(ref, algorithm);
        expect(verifies(signer.publicKey, algorithm, data, await signer.sign(data)), algorithm).toBe(true);
      }
    });

    test.each([
      ['pkcs11:ec-p256-ECDSA-SHA256', 'ECDSA-SHA256'],
      ['pkcs11:ec-p384-ECDSA-SHA384', 'ECDSA-SHA384'],
      ['pkcs11:rsa-2048-RSA-PSS-SHA256', 'RSA-PSS-SHA256'],
    ] as [string, SignatureAlgorithm][])('openssl verifies %s with %s', async (ref, algorithm) => {
      const signer = await backend.signer(ref, algorithm);
      expect(opensslVerifies(signer.publicKey, algorithm, data, await signer.sign(data))).toBe(true);
    });

    test('50 parallel signs on one signer all verify', async () => {
      for (const [ref, algorithm] of [
        ['pkcs11:ec-p256-ECDSA-SHA256', 'ECDSA-SHA256'],
        ['pkcs11:rsa-2048-RSA-PSS-SHA256', 'RSA-PSS-SHA256'],
      ] as [string, SignatureAlgorithm][]) {
        const signer = await backend.signer(ref, algorithm);
        const inputs = Array.from({ length: 50 }, (_, i) => Buffer.from(`certificate ${i}`));
        const signatures = await Promise.all(inputs.map((input) => signer.sign(input)));
        signatures.forEach((signature, i) => {
          expect(verifies(signer.publicKey, algorithm, inputs[i], signature)).toBe(true);
        });
      }
    });

    test('a pool of one session serialises 20 parallel signs correctly', async () => {
      const single = await open({ poolSize: 1 });
      const signer = await single.signer('pkcs11:ec-p384-ECDSA-SHA384', 'ECDSA-SHA384');
      const inputs = Array.from({ length: 20 }, (_, i) => Buffer.from(`input ${i}`));
      const signatures = await Promise.all(inputs.map((input) => signer.sign(input)));
      signatures.forEach((signature, i) => {
        expect(verifies(signer.publicKey, 'ECDSA-SHA384', inputs[i], signature)).toBe(true);
      });
      await single.close();
    });
  });

  describe('keys stay on the token', () => {
    test('the private key is sensitive, never extractable, and CKA_VALUE cannot be read', async () => {
      await backend.generateKey('guarded', 'ec-p256');
      await backend.generateKey('guarded-rsa', 'rsa-2048');
      // The test's lease shares the backend's login, as any code in this process would.
      const lease = acquireModule(SOFTHSM_MODULE);
      const p11 = lease.pkcs11;
      const session = p11.C_OpenSession(findToken(p11, TOKEN).slot, ck.CKF_SERIAL_SESSION);
      try {
        for (const [label, secret] of [
          ['guarded', ck.CKA_VALUE],
          ['guarded-rsa', ck.CKA_PRIVATE_EXPONENT],
        ] as const) {
          p11.C_FindObjectsInit(session, [
            { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
            { type: ck.CKA_LABEL, value: label },
          ]);
          const [key] = p11.C_FindObjects(session, 2);
          p11.C_FindObjectsFinal(session);
          const flags = p11
            .C_GetAttributeValue(session, key, [
              { type: ck.CKA_SENSITIVE },
              { type: ck.CKA_EXTRACTABLE },
              { type: ck.CKA_ALWAYS_SENSITIVE },
              { type: ck.CKA_NEVER_EXTRACTABLE },
              { type: ck.CKA_PRIVATE },
              { type: ck.CKA_TOKEN },
            ])
            .map((a) => a.value[0]);
          expect(flags).toEqual([1, 0, 1, 1, 1, 1]);
          expect(() => p11.C_GetAttributeValue(session, key, [{ type: secret }])).toThrow(
            /CKR_ATTRIBUTE_SENSITIVE/,
          );
        }
      } finally {
        p11.C_CloseSession(session);
        lease.release();
      }
    });

    test('a reopened backend finds the keys again', async () => {
      const again = await open();
      const signer = await again.signer('pkcs11:ec-p256-ECDSA-SHA256', 'ECDSA-SHA256');
      const original = await backend.publicKey('pkcs11:ec-p256-ECDSA-SHA256');
      expect(verifies(original, 'ECDSA-SHA256', data, await signer.sign(data))).toBe(true);
      await again.close();
      // Closing the second backend must not log out the first: both share the token's login.
      const still = await backend.signer('pkcs11:ec-p256-ECDSA-SHA256', 'ECDSA-SHA256');
      expect(verifies(original, 'ECDSA-SHA256', data, await still.sign(data))).toBe(true);
    });
  });

  describe('bad input', () => {
    test('a wrong PIN on a token nobody is logged in to', async () => {
      expect((await rejection(open({ tokenLabel: OTHER_TOKEN, pin: '0000' }))).code).toBe('wrong-pin');
    });

    test('a wrong PIN on a token this process is already logged in to', async () => {
      // PKCS#11 would answer CKR_USER_ALREADY_LOGGED_IN without checking; the backend must still refuse.
      expect((await rejection(open({ pin: '0000' }))).code).toBe('wrong-pin');
    });

    test('an unknown token label', async () => {
      expect((await rejection(open({ tokenLabel: 'no-such-token' }))).code).toBe('token-not-found');
    });

    test('a bad pool size', async () => {
      expect((await rejection(open({ poolSize: 0 }))).code).toBe('invalid-input');
    });

    test('unknown keys, foreign refs and mismatched algorithms', async () => {
      expect((await rejection(backend.signer('pkcs11:nope', 'ECDSA-SHA256'))).code).toBe('key-not-found');
      expect((await rejection(backend.publicKey('pkcs11:nope'))).code).toBe('key-not-found');
      expect((await rejection(backend.signer('soft:guarded', 'ECDSA-SHA256'))).code).toBe('key-not-found');
      expect((await rejection(backend.signer('pkcs11:guarded', 'RSA-PSS-SHA256'))).code).toBe(
        'algorithm-mismatch',
      );
      expect((await rejection(backend.signer('pkcs11:guarded-rsa', 'ECDSA-SHA256'))).code).toBe(
        'algorithm-mismatch',
      );
    });

    test('a duplicate label is refused, also when two generations race', async () => {
      expect((await rejection(backend.generateKey('guarded', 'ec-p384'))).code).toBe('key-exists');
      const results = await Promise.allSettled([
        backend.generateKey('race', 'ec-p256'),
        backend.generateKey('race', 'ec-p256'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({
        code: 'key-exists',
      });
    });

    test('a bad label and an unknown spec', async () => {
      expect((await rejection(backend.generateKey('a b', 'ec-p256'))).code).toBe('invalid-input');
      expect((await rejection(backend.generateKey('ed', 'ed25519' as KeySpec))).code).toBe('unsupported');
    });

    test('after close(), signers and the backend refuse to work', async () => {
      const own = await open();
      const signer = await own.signer('pkcs11:guarded', 'ECDSA-SHA256');
      await own.close();
      expect((await rejection(signer.sign(data))).code).toBe('device-error');
      expect((await rejection(own.publicKey('pkcs11:guarded'))).code).toBe('device-error');
    });

    test('close() waits for signs already under way', async () => {
      const own = await open({ poolSize: 2 });
      const signer = await own.signer('pkcs11:rsa-2048-RSA-PSS-SHA256', 'RSA-PSS-SHA256');
      const pending = Array.from({ length: 10 }, () => signer.sign(data));
      await own.close();
      for (const signature of await Promise.all(pending)) {
        expect(verifies(signer.publicKey, 'RSA-PSS-SHA256', data, signature)).toBe(true);
      }
    });
  });
});
