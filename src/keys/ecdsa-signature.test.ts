import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ecdsaRawToDer } from './ecdsa-signature.js';
import { KeyError } from './errors.js';

describe('ecdsaRawToDer', () => {
  test('drops leading zeros and adds one before a set sign bit', () => {
    const r = Buffer.alloc(32);
    r[31] = 0x01;
    const s = Buffer.alloc(32, 0xff);
    const der = Buffer.from(ecdsaRawToDer(Buffer.concat([r, s])));
    expect(der.toString('hex')).toBe(`3026020101022100${'ff'.repeat(32)}`);
  });

  test('keeps one zero byte for a zero integer', () => {
    expect(Buffer.from(ecdsaRawToDer(Buffer.alloc(64))).toString('hex')).toBe('3006020100020100');
  });

  test('uses a long-form length when the sequence exceeds 127 bytes (P-521 sizes)', () => {
    // Each integer: 66 bytes plus a zero for the sign bit, under a 2-byte header: 2 × 69 = 0x8a.
    const der = ecdsaRawToDer(Buffer.alloc(132, 0x80));
    expect(Buffer.from(der.subarray(0, 3)).toString('hex')).toBe('30818a');
    expect(der.length).toBe(3 + 0x8a);
  });

  test('rejects an odd-length input', () => {
    expect(() => ecdsaRawToDer(Buffer.alloc(63))).toThrow(KeyError);
  });

  test.each([
    ['prime256v1', 'sha256'],
    ['secp384r1', 'sha384'],
  ])(
    'converted %s signatures verify as DER (many, to hit short and sign-bit integers)',
    (namedCurve, hash) => {
      const { privateKey, publicKey: key } = generateKeyPairSync('ec', { namedCurve });
      const data = Buffer.from('kyso');
      for (let i = 0; i < 1500; i++) {
        const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(verify(hash, data, { key, dsaEncoding: 'der' }, ecdsaRawToDer(raw))).toBe(true);
      }
    },
  );
});
