import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { toPem } from '../src/pki/index.js';
import { minimalPdf } from './pdf/fixtures.js';
import { startPublicTestServer } from './pdf/lt-server.js';
import { makeKey, makePki, type TestKey, type TestPki } from './pdf/pki.js';
import { describeWith, kysoAsync, tempDir, toolMissing } from './support/env.js';
import { opensslP12 } from './support/keys.js';
import { enrol, type TestServer } from './support/server.js';

// `kyso pdf sign` refuses a certificate whose signatures could never be valid, and completes a chain a
// PKCS#12 file lacks from the certificate's AIA caIssuers URL.

const DAY = 86_400_000;
const PASSWORD = 'mật khẩu';

describeWith(toolMissing('openssl'), 'kyso pdf sign: the signing certificate is checked first', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: TestServer;
  let pki: TestPki;
  const at = (name: string) => path.join(tmp.dir, name);
  const sign = (out: string, key: string[], extra: string[] = []) =>
    kysoAsync(['pdf', 'sign', at('in.pdf'), '--out', at(out), ...key, ...extra], {
      env: { P12_PASS: PASSWORD },
    });
  const tsa = () => ['--tsa', `${server.url}/tsa`];

  /** A key and a leaf from the test PKI as PEM files. */
  async function pkiLeaf(
    name: string,
    options: { notBefore?: Date; notAfter?: Date; pki?: TestPki } = {},
  ): Promise<string[]> {
    const key: TestKey = makeKey('ec');
    writeFileSync(at(`${name}.key`), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cert = await (options.pki ?? pki).leaf(key, name, options);
    writeFileSync(at(`${name}.crt`), toPem('CERTIFICATE', cert));
    return ['--key', at(`${name}.key`), '--cert', at(`${name}.crt`)];
  }

  /** Exit 1, one line saying why in Vietnamese and English, and no output file (nor a temporary one). */
  function refused(r: { code: number; stderr: string }, out: string, why: RegExp): void {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^kyso: [^\n]*không ký: .* \/ refusing to sign: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(why);
    expect(existsSync(at(out))).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }

  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-sign-checks-');
    server = await startPublicTestServer(tmp.dir);
    pki = await makePki();
    // Not over the server's root.pem and issuing.pem.
    mkdirSync(at('pki'));
    pki.writePems(at('pki'));
    writeFileSync(at('in.pdf'), minimalPdf());
  });
  afterAll(async () => {
    await server?.stop().catch(() => {});
    tmp?.remove();
  });

  test('a revoked certificate is refused at B-B and B-T, a held one too; a good one signs', async () => {
    const good = await enrol(server, tmp.dir, 'good', '/C=VN/O=UBND tỉnh Thử nghiệm/CN=Nguyễn Văn Tốt');
    const ok = await sign('good.pdf', ['--key', good.key, '--cert', good.cert, '--chain', server.issuingPem]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');

    const revoked = await enrol(server, tmp.dir, 'revoked', '/C=VN/O=UBND tỉnh Thử nghiệm/CN=Trần Thu Hồi');
    await server.authority.revoke(revoked.serial, { reason: 'keyCompromise', actor: 'test' });
    const key = ['--key', revoked.key, '--cert', revoked.cert, '--chain', server.issuingPem];
    refused(await sign('revoked.pdf', key), 'revoked.pdf', /was revoked at .* \(keyCompromise\)/);
    refused(
      await sign('revoked-bt.pdf', key, ['--level', 'B-T', ...tsa()]),
      'revoked-bt.pdf',
      /đã bị thu hồi/,
    );

    const held = await enrol(server, tmp.dir, 'held', '/C=VN/O=UBND tỉnh Thử nghiệm/CN=Lê Tạm Dừng');
    await server.authority.hold(held.serial, { actor: 'test' });
    refused(
      await sign('held.pdf', ['--key', held.key, '--cert', held.cert, '--chain', server.issuingPem]),
      'held.pdf',
      /is on hold since/,
    );
  });

  test('an expired or not yet valid certificate is refused', async () => {
    const expired = await pkiLeaf('Hết Hạn', {
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    refused(
      await sign('expired.pdf', [...expired, '--chain', at('pki/issuing.pem')]),
      'expired.pdf',
      /expired at/,
    );
    const early = await pkiLeaf('Chưa Hiệu Lực', { notBefore: new Date(Date.now() + DAY) });
    refused(
      await sign('early.pdf', [...early, '--chain', at('pki/issuing.pem')]),
      'early.pdf',
      /not valid before/,
    );
  });

  test('a certificate its named issuer did not sign is refused', async () => {
    // Another test PKI with the same names: the issuing CA given is not the one whose key signed.
    const forged = await pkiLeaf('Giả Mạo', { pki: await makePki() });
    refused(
      await sign('forged.pdf', [...forged, '--chain', at('pki/issuing.pem')]),
      'forged.pdf',
      /does not verify with its issuer/,
    );
  });

  test('B-LT from a PKCS#12 without its chain: completed through AIA caIssuers, valid offline', async () => {
    const leaf = await enrol(server, tmp.dir, 'alone', '/C=VN/O=UBND tỉnh Thử nghiệm/CN=Phạm Một Mình');
    opensslP12(at('alone.p12'), { key: leaf.key, cert: leaf.cert }, PASSWORD);
    const p12 = ['--p12', at('alone.p12'), '--passin', 'env:P12_PASS'];
    const r = await sign('alone-lt.pdf', p12, ['--level', 'B-LT', ...tsa(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).problems).toEqual([]);
    const v = await kysoAsync(['pdf', 'verify', at('alone-lt.pdf'), '--ca', server.rootPem, '--offline']);
    expect(v.code, v.stdout).toBe(0);
  });

  test('B-LT with a certificate whose issuer cannot be found: signed, with a warning', async () => {
    const orphan = await pkiLeaf('Mồ Côi');
    const r = await sign('orphan-lt.pdf', orphan, ['--level', 'B-LT', ...tsa()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^kyso: warning: the issuer of the certificate .* is unknown/);
    expect(existsSync(at('orphan-lt.pdf'))).toBe(true);
  });
});
