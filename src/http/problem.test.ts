import { describe, expect, it } from 'vitest';
import { CaError } from '../ca/index.js';
import { KysoError } from '../errors.js';
import { KeyError } from '../keys/index.js';
import { PdfError } from '../pdf/index.js';
import { PkiError } from '../pki/index.js';
import { translateError } from '../store/database.js';
import { StoreError } from '../store/index.js';
import { searchKey } from '../store/search-key.js';
import { problemFor } from './problem.js';

describe('the error taxonomy at the HTTP edge', () => {
  it('maps typed codes by their table and everything else to 500', () => {
    expect(problemFor(new CaError('unknown-certificate', 'x')).status).toBe(404);
    expect(problemFor(new CaError('illegal-transition', 'x')).status).toBe(409);
    expect(problemFor(new StoreError('unavailable', 'x')).status).toBe(503);
    expect(problemFor(new StoreError('full', 'x')).status).toBe(503);
    expect(problemFor(new KeyError('wrong-pin', 'x')).status).toBe(503);
    expect(problemFor(new PdfError('too-large', 'x')).status).toBe(413);
    expect(problemFor(new PkiError('malformed-csr', 'x')).status).toBe(400);
    // Unknown codes, a driver's error that was not translated, and plain errors are the server's fault.
    expect(problemFor(new KysoError('something-new', 'x')).status).toBe(500);
    const driver = Object.assign(new (class DatabaseError extends Error {})('relation does not exist'), {
      code: '42P01',
    });
    expect(problemFor(driver)).toMatchObject({
      status: 500,
      detail: 'the server failed to handle the request',
    });
    expect(problemFor(new Error('boom')).status).toBe(500);
    // Fastify's refusals of a request keep their status.
    expect(
      problemFor(Object.assign(new Error('too big'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }))
        .status,
    ).toBe(413);
  });

  it('never quotes a database driver in a 503', () => {
    const down = translateError(
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
    );
    expect(down).toBeInstanceOf(StoreError);
    const p = problemFor(down);
    expect(p.status).toBe(503);
    expect(p.detail).not.toMatch(/ECONNREFUSED|10\.0\.0\.5/);
  });

  it('translates the database faults a server meets', () => {
    const code = (e: unknown) => (translateError(e) as StoreError).code;
    expect(code({ code: 'SQLITE_BUSY' })).toBe('locked');
    expect(code({ code: 'SQLITE_BUSY_SNAPSHOT' })).toBe('locked');
    expect(code({ code: 'SQLITE_FULL' })).toBe('full');
    expect(code({ code: '53100' })).toBe('full');
    expect(code({ code: '57P01' })).toBe('unavailable');
    expect(code({ code: '57014' })).toBe('timeout');
    expect(code({ code: '23505', message: 'duplicate' })).toBe('conflict');
  });
});

describe('searchKey', () => {
  it('strips Vietnamese diacritics, đ included, and case', () => {
    expect(searchKey('  Nguyễn   Văn An ')).toBe('nguyen van an');
    expect(searchKey('ĐẶNG THỊ ĐÀO')).toBe('dang thi dao');
    expect(searchKey('Sở Tư pháp')).toBe('so tu phap');
  });
});
