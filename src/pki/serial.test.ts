import { describe, expect, it } from 'vitest';
import type { PkiError } from './errors.js';
import { fromPem, toPem } from './pem.js';
import { parseRevocationReason, REVOCATION_REASON_CODES } from './revocation.js';
import { randomSerial, serialFromHex, serialToHex } from './serial.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as PkiError).code;
  }
  return undefined;
};

describe('serials', () => {
  it('prints uppercase hex without sign padding', () => {
    expect(serialToHex(Uint8Array.of(0x00, 0x8f, 0x0a))).toBe('8F0A');
    expect(serialToHex(Uint8Array.of(0x01, 0x00))).toBe('0100');
    // Negative serials as `openssl x509 -serial` prints them, apart from the positive ones.
    expect(serialToHex(Uint8Array.of(0xff))).toBe('-01');
    expect(serialToHex(Uint8Array.of(0x00, 0xff))).toBe('FF');
    expect(serialToHex(Uint8Array.of(0xff, 0x00))).toBe('-0100');
  });

  it('parses hex forms to positive minimal INTEGER contents', () => {
    expect([...serialFromHex('8f0a')]).toEqual([0x00, 0x8f, 0x0a]);
    expect([...serialFromHex('0x8F0A')]).toEqual([0x00, 0x8f, 0x0a]);
    expect([...serialFromHex('8F:0A')]).toEqual([0x00, 0x8f, 0x0a]);
    expect([...serialFromHex('abc')]).toEqual([0x0a, 0xbc]);
    expect([...serialFromHex('000001')]).toEqual([0x01]);
    expect(serialToHex(serialFromHex('7fee'))).toBe('7FEE');
  });

  it.each(['', '0', '00:00', 'xyz', '12 34', '-1', '8:f', 'ab'.repeat(21)])('refuses %j', (hex) => {
    expect(code(() => serialFromHex(hex))).toBe('bad-serial');
  });

  it('makes 16-byte positive serials whose hex never starts with 0', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = randomSerial();
      expect(s).toHaveLength(16);
      expect(s[0]).toBeGreaterThanOrEqual(0x10);
      expect(s[0]).toBeLessThanOrEqual(0x7f);
      seen.add(serialToHex(s));
    }
    expect(seen.size).toBe(1000);
  });
});

describe('PEM', () => {
  it('writes 64-character lines and reads blocks by label', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = toPem('CERTIFICATE', der);
    expect(pem.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
    const two = `junk\n${pem}${toPem('X509 CRL', Uint8Array.of(1))}\r\n${pem.replace(/\n/g, '\r\n')}`;
    expect(fromPem(two)).toHaveLength(3);
    expect(fromPem(two, 'CERTIFICATE')).toEqual([der, der]);
    expect(fromPem(two, 'X509 CRL')).toEqual([Uint8Array.of(1)]);
  });

  it('refuses missing blocks and bad base64', () => {
    expect(code(() => fromPem('nothing here'))).toBe('pem-not-found');
    expect(code(() => fromPem(toPem('CERTIFICATE', Uint8Array.of(1)), 'X509 CRL'))).toBe('pem-not-found');
    expect(code(() => fromPem('-----BEGIN A-----\nAB$=\n-----END A-----'))).toBe('malformed-pem');
    expect(code(() => fromPem('-----BEGIN A-----\nAQ==\n-----END B-----'))).toBe('malformed-pem');
  });
});

describe('revocation reasons', () => {
  it('has the RFC 5280 codes', () => {
    expect(Object.values(REVOCATION_REASON_CODES)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10]);
  });

  it('parses names in any case and numeric codes', () => {
    expect(parseRevocationReason('keyCompromise')).toBe('keyCompromise');
    expect(parseRevocationReason('KEYCOMPROMISE')).toBe('keyCompromise');
    expect(parseRevocationReason('aacompromise')).toBe('aACompromise');
    expect(parseRevocationReason('6')).toBe('certificateHold');
    expect(code(() => parseRevocationReason('7'))).toBe('bad-reason');
    expect(code(() => parseRevocationReason('lost'))).toBe('bad-reason');
  });
});
