import { describe, expect, it } from 'vitest';
import type { StatusStatement } from '../../pki/index.js';
import { accepted } from './revocation.js';

const HOUR = 3_600_000;
const t0 = new Date('2026-01-10T00:00:00Z');
const at = (h: number) => new Date(t0.getTime() + h * HOUR);
const good = (thisUpdate: Date, nextUpdate?: Date): StatusStatement => ({
  status: 'good',
  thisUpdate,
  nextUpdate,
  signer: 'CN=Test CA',
});

describe('revocation freshness', () => {
  const now = at(24 * 365);
  it('accepts a "good" issued at or after the time that matters', () => {
    expect(accepted(good(at(1)), t0, now)).toBe(true);
  });
  it('accepts an earlier "good" only while its nextUpdate has not passed', () => {
    expect(accepted(good(at(-2), at(2)), t0, now)).toBe(true);
    expect(accepted(good(at(-5), at(-1)), t0, now)).toBe(false);
    expect(accepted(good(at(-5)), t0, now)).toBe(false);
  });
  it('refuses data from the future and "unknown"; accepts any authentic revocation', () => {
    expect(accepted(good(at(24 * 366)), t0, now)).toBe(false);
    expect(accepted({ ...good(at(1)), status: 'unknown' }, t0, now)).toBe(false);
    expect(accepted({ ...good(at(-100), at(-99)), status: 'revoked', revokedAt: at(-101) }, t0, now)).toBe(
      true,
    );
  });
});
