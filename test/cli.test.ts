import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { opensslCsr } from './support/ca.js';
import {
  describeWith,
  kyso,
  ROOT,
  run,
  softHsmMissing,
  softHsmToken,
  tempDir,
  toolMissing,
} from './support/env.js';

/** One line on stderr, nothing else: what every failing command must print. */
function oneLineError(r: { code: number; stderr: string }, code: number, text: RegExp) {
  expect(r.code).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kyso: /);
  expect(lines[0]).toMatch(text);
}

describeWith(toolMissing('openssl'), 'the kyso command line', () => {
  let tmp: ReturnType<typeof tempDir>;
  let data: string;
  let serial: string;
  beforeAll(() => {
    tmp = tempDir();
    data = path.join(tmp.dir, 'data');
  });
  afterAll(() => tmp?.remove());
  const file = (name: string) => path.join(tmp.dir, name);

  test('init runs the ceremony once and prints the fingerprints', () => {
    const r = kyso([
      'init',
      '--data',
      data,
      '--root-name',
      'C=VN, O=Ban Cơ yếu Chính phủ, CN=Kyso Root CA Thử nghiệm',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/root +root: C=VN, O=Ban Cơ yếu Chính phủ/);
    expect(r.stdout).toMatch(/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(existsSync(path.join(data, 'secrets', 'key-passphrase'))).toBe(true);
    oneLineError(kyso(['init', '--data', data, '--demo']), 1, /already holds a CA/);
  });

  test('a certificate issued from an openssl req CSR verifies with openssl', () => {
    const { csr } = opensslCsr(tmp.dir, 'me', 'ec-p256', '/C=VN/O=UBND tỉnh Hà Giang/CN=Nguyễn Văn A');
    const issued = kyso([
      'cert',
      'issue',
      '--data',
      data,
      '--csr',
      csr,
      '--profile',
      'individual',
      '--subject',
      'C=VN, L=Hà Giang, O=UBND tỉnh Hà Giang, CN=Nguyễn Văn A, E=nva@hagiang.gov.vn',
      '--out',
      file('me.pem'),
    ]);
    expect(issued.code).toBe(0);
    expect(kyso(['ca', 'chain', '--data', data, '--out', file('chain.pem')]).code).toBe(0);
    const pems = readFileSync(file('chain.pem'), 'utf8').match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g,
    )!;
    expect(pems).toHaveLength(2);
    writeFileSync(file('root.pem'), pems[1]);
    const v = run('openssl', [
      'verify',
      '-CAfile',
      file('root.pem'),
      '-untrusted',
      file('chain.pem'),
      file('me.pem'),
    ]);
    expect(v.stdout).toContain('me.pem: OK');
    serial = run('openssl', ['x509', '-in', file('me.pem'), '-noout', '-serial'])
      .stdout.trim()
      .split('=')[1];
    const shown = kyso(['cert', 'show', serial, '--data', data, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      serial,
      status: 'active',
      profile: 'individual',
      email: 'nva@hagiang.gov.vn',
    });
    const der = kyso([
      'cert',
      'show',
      serial.toLowerCase(),
      '--data',
      data,
      '--der',
      '--out',
      file('me.der'),
    ]);
    expect(der.code).toBe(0);
    expect(
      run('openssl', ['x509', '-inform', 'DER', '-in', file('me.der'), '-noout', '-serial']).stdout.trim(),
    ).toBe(`serial=${serial}`);
  });

  test('after revoke, the CRL lists the certificate and openssl rejects it', () => {
    const r = kyso(['cert', 'revoke', serial, '--reason', 'keyCompromise', '--data', data]);
    expect(r.stdout).toBe(`${serial}: revoked (keyCompromise)\n`);
    oneLineError(
      kyso(['cert', 'revoke', serial, '--reason', 'keyCompromise', '--data', data]),
      1,
      /already revoked/,
    );
    expect(kyso(['crl', '--data', data, '--out', file('crl.pem')]).code).toBe(0);
    const text = run('openssl', ['crl', '-in', file('crl.pem'), '-noout', '-text']);
    expect(text.stdout).toContain(`Serial Number: ${serial}`);
    expect(text.stdout).toContain('Key Compromise');
    const v = run('openssl', [
      'verify',
      '-crl_check',
      '-CAfile',
      file('root.pem'),
      '-untrusted',
      file('chain.pem'),
      '-CRLfile',
      file('crl.pem'),
      file('me.pem'),
    ]);
    expect(v.code).not.toBe(0);
    expect(v.stdout + v.stderr).toContain('certificate revoked');
    const delta = kyso(['crl', '--delta', '--data', data, '--json']);
    expect(JSON.parse(delta.stdout)).toMatchObject({ number: 2, deltaBase: 1, entries: 1 });
  });

  test('list, hold, release and audit verify', () => {
    const list = JSON.parse(kyso(['cert', 'list', '--data', data, '--json', '--status', 'revoked']).stdout);
    expect(list.map((c: { serial: string }) => c.serial)).toEqual([serial]);
    const { csr } = opensslCsr(tmp.dir, 'seal', 'rsa-2048');
    const seal = JSON.parse(
      kyso([
        'cert',
        'issue',
        '--data',
        data,
        '--csr',
        csr,
        '--profile',
        'organization',
        '--subject',
        'CN=CỤC THUẾ, O=BỘ TÀI CHÍNH, L=Hà Nội, C=VN',
        '--json',
      ]).stdout,
    );
    expect(seal.subject).toBe('C=VN, L=Hà Nội, O=BỘ TÀI CHÍNH, CN=CỤC THUẾ');
    expect(kyso(['cert', 'hold', seal.serial, '--data', data]).stdout).toContain('hold');
    expect(kyso(['cert', 'release', seal.serial, '--data', data]).stdout).toContain('active');
    const audit = kyso(['audit', 'verify', '--data', data]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit log intact: \d+ entries/);
  });

  test('bulk issues one certificate per CSR and names the ones it refused', () => {
    const dir = file('bulk');
    run('mkdir', ['-p', dir]);
    for (const i of [1, 2, 3]) opensslCsr(dir, `p${i}`, 'ec-p256', `/C=VN/O=Sở Nội vụ/CN=Cán bộ ${i}`);
    writeFileSync(path.join(dir, 'broken.csr'), 'junk');
    const r = kyso([
      'cert',
      'bulk',
      '--data',
      data,
      '--dir',
      dir,
      '--profile',
      'individual',
      '--out-dir',
      file('bulk-out'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.issued.map((c: { subject: string }) => c.subject).sort()).toEqual(
      [1, 2, 3].map((i) => `C=VN, O=Sở Nội vụ, CN=Cán bộ ${i}`),
    );
    expect(out.failed).toEqual([expect.stringMatching(/^broken.csr: /)]);
    expect(
      run('openssl', [
        'verify',
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('chain.pem'),
        file('bulk-out/p2.pem'),
      ]).code,
    ).toBe(0);
  });

  test('bad input: one line on stderr and a non-zero exit, nothing stored', () => {
    const before = kyso(['cert', 'list', '--data', data, '--json']).stdout;
    writeFileSync(file('garbage.csr'), 'this is not a CSR');
    oneLineError(
      kyso(['cert', 'issue', '--data', data, '--csr', file('garbage.csr'), '--profile', 'individual']),
      1,
      /CERTIFICATE REQUEST|malformed|request/i,
    );
    oneLineError(
      kyso(['cert', 'issue', '--data', data, '--csr', file('nope.csr'), '--profile', 'individual']),
      3,
      /cannot read the CSR/,
    );
    oneLineError(kyso(['cert', 'issue', '--data', data, '--csr', file('me.csr')]), 3, /--profile/);
    const weak = opensslCsr(tmp.dir, 'weak', 'rsa-1024').csr;
    oneLineError(
      kyso(['cert', 'issue', '--data', data, '--csr', weak, '--profile', 'individual']),
      1,
      /does not accept RSA-1024/,
    );
    oneLineError(
      kyso([
        'cert',
        'issue',
        '--data',
        data,
        '--csr',
        file('me.csr'),
        '--profile',
        'individual',
        '--subject',
        'C=VN, CN=Tab\there',
      ]),
      1,
      /control/,
    );
    oneLineError(kyso(['cert', 'revoke', 'ZZ12', '--reason', 'keyCompromise', '--data', data]), 1, /serial/i);
    oneLineError(
      kyso(['cert', 'revoke', '0A0B0C0D', '--reason', 'keyCompromise', '--data', data]),
      1,
      /no certificate with serial 0A0B0C0D/,
    );
    oneLineError(kyso(['cert', 'revoke', serial, '--reason', 'because', '--data', data]), 3, /reason/);
    oneLineError(kyso(['cert', 'frobnicate', '--data', data]), 3, /unknown command/);
    oneLineError(kyso(['cert', 'list', '--data', data, '--bogus']), 3, /bogus/);
    oneLineError(kyso(['cert', 'list', '--data', path.join(tmp.dir, 'nowhere')]), 1, /run `kyso init`/);
    oneLineError(
      kyso(['cert', 'issue', '--data', data, '--csr', file('me.csr'), '--profile', 'individual'], {
        env: { KYSO_KEY_PASSPHRASE: 'wrong' },
      }),
      1,
      /passphrase/,
    );
    expect(kyso(['cert', 'list', '--data', data, '--json']).stdout).toBe(before);
  }, 180_000);

  test('a locked database gets a clear error after the busy timeout, as unavailable (4)', () => {
    const db = new SQLite(path.join(data, 'kyso.db'));
    db.exec('BEGIN EXCLUSIVE');
    try {
      oneLineError(
        kyso(['cert', 'issue', '--data', data, '--csr', file('me.csr'), '--profile', 'individual']),
        4,
        /locked/,
      );
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
  });

  test('a vanished database is reported, not recreated', () => {
    const copy = tempDir();
    try {
      run('cp', ['-r', data, copy.dir]);
      const d = path.join(copy.dir, 'data');
      for (const f of ['kyso.db', 'kyso.db-wal', 'kyso.db-shm']) rmSync(path.join(d, f), { force: true });
      oneLineError(kyso(['cert', 'list', '--data', d]), 1, /no Kyso database/);
      expect(existsSync(path.join(d, 'kyso.db'))).toBe(false);
    } finally {
      copy.remove();
    }
  });

  test('an RSA-PSS CA (TT 15/2025) issues certificates OpenSSL verifies', () => {
    const d = path.join(tmp.dir, 'rsa');
    expect(kyso(['init', '--data', d, '--key-type', 'rsa-3072', '--demo']).code).toBe(0);
    const { csr } = opensslCsr(tmp.dir, 'rsa-sub', 'rsa-2048-pss');
    expect(
      kyso([
        'cert',
        'issue',
        '--data',
        d,
        '--csr',
        csr,
        '--profile',
        'individual',
        '--out',
        file('rsa-sub.pem'),
      ]).code,
    ).toBe(0);
    expect(kyso(['ca', 'chain', '--data', d, '--out', file('rsa-chain.pem')]).code).toBe(0);
    const text = run('openssl', ['x509', '-in', file('rsa-sub.pem'), '-noout', '-text']).stdout;
    expect(text).toContain('Signature Algorithm: rsassaPss');
    expect(text).toContain('Hash Algorithm: sha256');
    const v = run('openssl', ['verify', '-CAfile', file('rsa-chain.pem'), file('rsa-sub.pem')]);
    expect(v.stdout).toContain('rsa-sub.pem: OK');
  });

  test('the packaged bin runs the built command line', () => {
    const r = run(process.execPath, [path.join(ROOT, 'bin/kyso.js'), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kyso init');
  });
});

describeWith(
  softHsmMissing() ?? toolMissing('openssl'),
  'the kyso command line with an HSM (SoftHSM2)',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let token: ReturnType<typeof softHsmToken>;
    beforeAll(() => {
      tmp = tempDir();
      token = softHsmToken('kyso-cli');
    });
    afterAll(() => {
      token?.remove();
      tmp?.remove();
    });

    test('init on a token, issue, and a wrong PIN refused with one line', () => {
      const data = path.join(tmp.dir, 'data');
      const env = { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF, KYSO_PKCS11_PIN: token.pin };
      const init = kyso(
        [
          'init',
          '--data',
          data,
          '--demo',
          '--backend',
          'pkcs11',
          '--pkcs11-module',
          token.module,
          '--token-label',
          token.label,
        ],
        { env },
      );
      expect(init.stderr).toBe('');
      expect(init.stdout).toContain('(pkcs11 keys)');
      const settings = JSON.parse(readFileSync(path.join(data, 'kyso.json'), 'utf8'));
      expect(settings.keys).toMatchObject({ backend: 'pkcs11', tokenLabel: token.label });
      const { csr } = opensslCsr(tmp.dir, 'hsm', 'ec-p256');
      const issued = kyso(
        [
          'cert',
          'issue',
          '--data',
          data,
          '--csr',
          csr,
          '--profile',
          'device',
          '--subject',
          'C=VN, O=Sở TT&TT, CN=portal.hagiang.gov.vn',
          '--json',
        ],
        { env },
      );
      expect(JSON.parse(issued.stdout).subject).toContain('portal.hagiang.gov.vn');
      oneLineError(
        kyso(['cert', 'issue', '--data', data, '--csr', csr, '--profile', 'device'], {
          env: { ...env, KYSO_PKCS11_PIN: '000000' },
        }),
        1,
        /PIN/i,
      );
      oneLineError(
        kyso(['cert', 'issue', '--data', data, '--csr', csr, '--profile', 'device'], {
          env: { SOFTHSM2_CONF: env.SOFTHSM2_CONF },
        }),
        1,
        /KYSO_PKCS11_PIN/,
      );
    });
  },
);
