import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toPem } from '../src/pki/index.js';
import { minimalPdf } from './pdf/fixtures.js';
import { makeKey, makePki } from './pdf/pki.js';
import { kyso, tempDir } from './support/env.js';

// `kyso pdf sign --certify` and `--lock-fields`, and what `kyso pdf verify` then says about later changes.

describe('kyso pdf sign --certify and --lock-fields', () => {
  let tmp: ReturnType<typeof tempDir>;
  let keyArgs: string[];
  const at = (name: string) => path.join(tmp.dir, name);

  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-cli-mdp-');
    const pki = await makePki();
    const key = makeKey('ec');
    writeFileSync(at('leaf.key'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(at('leaf.crt'), toPem('CERTIFICATE', await pki.leaf(key, 'Nguyễn Văn An')));
    writeFileSync(at('in.pdf'), minimalPdf({ pages: 1 }));
    keyArgs = ['--key', at('leaf.key'), '--cert', at('leaf.crt')];
  });
  afterAll(() => tmp.remove());

  test('P1 certification, then a second signature that it does not allow', () => {
    const first = kyso(['pdf', 'sign', at('in.pdf'), '--out', at('p1.pdf'), ...keyArgs, '--certify', 'P1']);
    expect(first.code, first.stderr).toBe(0);
    const second = kyso([
      'pdf',
      'sign',
      at('p1.pdf'),
      '--out',
      at('p1-2.pdf'),
      ...keyArgs,
      '--lock-fields',
      'all',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const v = kyso(['pdf', 'verify', at('p1-2.pdf'), '--json', '--offline']);
    expect(v.code, v.stderr).toBe(1);
    const report = JSON.parse(v.stdout);
    expect(report.signatures[0].certification).toEqual({ level: 1 });
    expect(report.signatures[0].reasons).toContain('changes-not-allowed');
    expect(report.signatures[0].modifications.status).toBe('disallowed');
    expect(report.signatures[1].fieldLock).toEqual({ action: 'all' });
    const text = kyso(['pdf', 'verify', at('p1-2.pdf'), '--lang', 'en', '--offline']);
    expect(text.stdout).toContain('the document was changed after signing in a way that is not allowed');
  });

  test('usage errors are one line and fail', () => {
    for (const args of [
      ['--certify', 'P4'],
      ['--lock-fields', 'a,,b'],
    ]) {
      const r = kyso(['pdf', 'sign', at('in.pdf'), '--out', at('bad.pdf'), ...keyArgs, ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const again = kyso(['pdf', 'sign', at('p1.pdf'), '--out', at('bad.pdf'), ...keyArgs, '--certify', 'P2']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('only the first signature of a document may certify it');
  });
});
