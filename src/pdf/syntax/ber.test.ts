import { describe, expect, it } from 'vitest';
import { definiteLengths } from './ber.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const out = (s: string) => {
  const r = definiteLengths(hex(s));
  return { der: Buffer.from(r.der).toString('hex'), consumed: r.consumed };
};

describe('definiteLengths', () => {
  it('leaves DER as it is and reports what it took', () => {
    expect(out('3003 020105 0000')).toEqual({ der: '3003020105', consumed: 5 });
  });

  it('rewrites nested indefinite lengths as definite ones', () => {
    // SEQUENCE(indef) { [0](indef) { INTEGER 5 } OCTET STRING 'ab' }
    expect(out('3080 a080 020105 0000 0402 6162 0000 0000')).toEqual({
      der: '3009a0030201050402' + '6162',
      consumed: 15,
    });
  });

  it('writes long lengths', () => {
    const body = '04820100' + '00'.repeat(256);
    expect(out(`3080 ${body} 0000`).der).toBe(`30820104${body}`);
  });

  it.each([
    ['no end-of-contents', '3080 020105', 'missing end-of-contents'],
    ['an indefinite primitive', '0480 00 0000', 'primitive'],
    ['a truncated value', '3005 0201', 'truncated'],
    ['a multi-byte tag', '1f01 00', 'multi-byte'],
    ['a five-byte length', '3085 0000000000', 'bad length'],
    ['70 levels of nesting', `${'3080'.repeat(70)}${'0000'.repeat(70)}`, 'nested too deeply'],
  ])('refuses %s', (_, input, message) => {
    expect(() => definiteLengths(hex(input))).toThrow(message);
  });
});
