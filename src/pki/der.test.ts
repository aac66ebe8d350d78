import { describe, expect, it } from 'vitest';
import {
  bitString,
  children,
  decodeDer,
  integer,
  MAX_DEPTH,
  oid,
  readInteger,
  readOid,
  readTime,
  sequence,
  time,
  tlv,
} from './der.js';
import { PkiError } from './errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PkiError ? e.code : `not a PkiError: ${e}`;
  }
  return undefined;
}

describe('DER encoding', () => {
  it('uses short and long length forms', () => {
    expect(hex(tlv(0x04, new Uint8Array(3)))).toBe('0403000000');
    expect(hex(tlv(0x04, new Uint8Array(200)).subarray(0, 3))).toBe('0481c8');
    expect(hex(tlv(0x04, new Uint8Array(300)).subarray(0, 4))).toBe('0482012c');
    expect(hex(tlv(0x04, new Uint8Array(70000)).subarray(0, 5))).toBe('0483011170');
  });

  it('encodes integers minimally and positive', () => {
    expect(hex(integer(0))).toBe('020100');
    expect(hex(integer(127))).toBe('02017f');
    expect(hex(integer(128))).toBe('02020080');
    expect(hex(integer(65537n))).toBe('0203010001');
  });

  it('encodes OIDs', () => {
    expect(hex(oid('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    expect(hex(oid('2.5.29.32.0'))).toBe('0604551d2000');
    expect(readOid(oid('1.3.6.1.4.1.311.10.3.12').subarray(2))).toBe('1.3.6.1.4.1.311.10.3.12');
    expect(readOid(oid('2.999.3').subarray(2))).toBe('2.999.3');
    expect(code(() => oid('1.2.x'))).toBe('bad-oid');
  });

  it('writes UTCTime before 2050 and GeneralizedTime from 2050, in whole seconds', () => {
    expect(
      Buffer.from(time(new Date('2049-12-31T23:59:59.999Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('491231235959Z');
    expect(
      Buffer.from(time(new Date('2050-01-01T00:00:00Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('20500101000000Z');
    const t = time(new Date('2030-06-15T08:09:10.750Z'));
    expect(readTime(t, decodeDer(t, 64)).toISOString()).toBe('2030-06-15T08:09:10.000Z');
    const g = time(new Date('2051-02-03T04:05:06Z'));
    expect(readTime(g, decodeDer(g, 64)).toISOString()).toBe('2051-02-03T04:05:06.000Z');
  });

  it('pads a bit string with its unused-bit count', () => {
    expect(hex(bitString(Uint8Array.of(0x86), 1))).toBe('03020186');
  });
});

describe('DER decoding fails closed', () => {
  it('reads nested structures', () => {
    const der = sequence(integer(5), sequence(oid('1.2.3')));
    const top = decodeDer(der, 100);
    const [a, b] = children(der, top);
    expect(readInteger(der.subarray(a.body, a.end))).toBe(5n);
    expect(children(der, b)).toHaveLength(1);
  });

  it.each([
    ['truncated', '300502010102'],
    ['indefinite length', '3080020101 0000'],
    ['trailing bytes', '3003020101 00'],
    ['non-minimal length', '30810302 0101'],
    ['length with a leading zero', '3082000302 0101'],
    ['multi-byte tag', '1f2a0100'],
    ['empty input', ''],
    ['a single byte', '30'],
    ['length beyond 4 bytes', '3085ffffffffff'],
  ])('refuses %s', (_what, h) => {
    const der = bytes(h.replace(/ /g, ''));
    expect(
      code(() => {
        const t = decodeDer(der, 1000);
        children(der, t);
      }),
    ).toBe('malformed-der');
  });

  it('refuses input over the size limit', () => {
    expect(code(() => decodeDer(new Uint8Array(2000), 1000))).toBe('too-large');
  });

  it('refuses nesting deeper than the limit', () => {
    let der = sequence();
    for (let i = 0; i < MAX_DEPTH + 5; i++) der = sequence(der);
    const walk = (t: ReturnType<typeof decodeDer>): void => {
      for (const c of children(der, t)) walk(c);
    };
    expect(code(() => walk(decodeDer(der, 10_000)))).toBe('malformed-der');
  });

  it('refuses non-minimal integers and bad times', () => {
    expect(code(() => readInteger(bytes('0001')))).toBe('malformed-der');
    expect(readInteger(bytes('ff7f'))).toBe(-129n);
    const bad = bytes('170d3235313333313030303030305a'); // month 13
    expect(code(() => readTime(bad, decodeDer(bad, 64)))).toBe('malformed-der');
    const noSeconds = bytes('170b323531323331303030305a');
    expect(code(() => readTime(noSeconds, decodeDer(noSeconds, 64)))).toBe('malformed-der');
  });
});
