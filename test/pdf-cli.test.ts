import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { toPem } from '../src/pki/index.js';
import { minimalPdf } from './pdf/fixtures.js';
import { makeKey, makePki, type TestKey, type TestPki } from './pdf/pki.js';
import { discPng, strokePng } from './pdf/png-writer.js';
import { pdfsig, qpdfCheck } from './pdf/tools.js';
import {
  describeWith,
  kyso,
  kysoAsync,
  run,
  softHsmMissing,
  softHsmToken,
  tempDir,
  toolMissing,
} from './support/env.js';
import { opensslP12, tokenKey } from './support/keys.js';
import { startTestServer, type TestServer } from './support/server.js';

const PASSWORD = 'mật-khẩu p12';

let tmp: ReturnType<typeof tempDir>;
let pki: TestPki;
let pems: { root: string; issuing: string; tsa: string };
let input: string;

/** A path in the test's temporary directory. */
const at = (name: string) => path.join(tmp.dir, name);

/** Writes a key's PKCS#8 PEM and its leaf certificate; returns their paths. */
async function writeLeaf(key: TestKey, cn: string, name: string): Promise<{ key: string; cert: string }> {
  writeFileSync(at(`${name}.key`), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(at(`${name}.crt`), toPem('CERTIFICATE', await pki.leaf(key, cn)));
  return { key: at(`${name}.key`), cert: at(`${name}.crt`) };
}

/** Checks a signed file with qpdf and pdfsig: well formed, every signature valid. */
function checkedByTools(file: string, signatures: number): void {
  const pdf = readFileSync(file);
  const label = path.basename(file, '.pdf');
  const q = qpdfCheck(tmp.dir, pdf, `${label}-qpdf`);
  expect(q.ok, q.output).toBe(true);
  const p = pdfsig(tmp.dir, pdf, `${label}-pdfsig`);
  expect(p.signatures, p.output).toHaveLength(signatures);
  for (const s of p.signatures) expect(s.validation, p.output).toBe('Signature is Valid.');
}

function setUp(): void {
  beforeAll(async () => {
    tmp = tempDir('kyso-pdf-cli-');
    pki = await makePki();
    pems = pki.writePems(tmp.dir);
    input = at('in.pdf');
    writeFileSync(input, minimalPdf());
  });
  afterAll(() => tmp?.remove());
}

describeWith(toolMissing('pdfsig', 'qpdf', 'openssl'), 'kyso pdf sign and verify', () => {
  setUp();
  let ec: { key: string; cert: string };

  beforeAll(async () => {
    ec = await writeLeaf(makeKey('ec'), 'Nguyễn Văn An', 'ec');
  });

  test('signs with a PEM key: qpdf and pdfsig accept it', () => {
    const r = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('pem.pdf'),
      '--key',
      ec.key,
      '--cert',
      ec.cert,
      '--chain',
      pems.issuing,
      '--reason',
      'Phê duyệt',
    ]);
    expect(r.code, r.stderr).toBe(0);
    checkedByTools(at('pem.pdf'), 1);
  });

  test('signs with an OpenSSL 3 PKCS#12 (RSA, PSS by default) and with --rsa-padding pkcs1', async () => {
    const rsa = await writeLeaf(makeKey('rsa'), 'Trần Thị Bình', 'rsa');
    opensslP12(at('rsa.p12'), { key: rsa.key, cert: rsa.cert, chain: pems.issuing }, PASSWORD);
    const r = kyso(
      [
        'pdf',
        'sign',
        input,
        '--out',
        at('p12.pdf'),
        '--p12',
        at('rsa.p12'),
        '--passin',
        'env:P12_PASSWORD',
        '--json',
      ],
      {
        env: { P12_PASSWORD: PASSWORD },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).algorithm).toBe('RSA-PSS-SHA256');
    checkedByTools(at('p12.pdf'), 1);
    writeFileSync(at('password.txt'), `${PASSWORD}\n`);
    const v15 = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('p12-pkcs1.pdf'),
      '--p12',
      at('rsa.p12'),
      '--passin',
      `file:${at('password.txt')}`,
      '--rsa-padding',
      'pkcs1',
    ]);
    expect(v15.code, v15.stderr).toBe(0);
    checkedByTools(at('p12-pkcs1.pdf'), 1);
  });

  test('a wrong PKCS#12 password fails with one line; a -legacy (RC2) PKCS#12 signs', () => {
    const wrong = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('x.pdf'),
      '--p12',
      at('rsa.p12'),
      '--passin',
      'pass:wrong',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^kyso: .*wrong PKCS#12 password/);
    const made = run('openssl', [
      'pkcs12',
      '-export',
      '-legacy',
      '-inkey',
      ec.key,
      '-in',
      ec.cert,
      '-out',
      at('legacy.p12'),
      '-passout',
      `pass:${PASSWORD}`,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const legacy = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('legacy.pdf'),
      '--p12',
      at('legacy.p12'),
      '--passin',
      `pass:${PASSWORD}`,
    ]);
    expect(legacy.code, legacy.stderr).toBe(0);
    checkedByTools(at('legacy.pdf'), 1);
  });

  test('signs twice: the second signature is appended and the first stays valid', async () => {
    const second = await writeLeaf(makeKey('ec'), 'Lê Văn Cường', 'second');
    const r = kyso([
      'pdf',
      'sign',
      at('pem.pdf'),
      '--out',
      at('twice.pdf'),
      '--key',
      second.key,
      '--cert',
      second.cert,
      '--chain',
      pems.issuing,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const first = readFileSync(at('pem.pdf'));
    expect(Buffer.compare(readFileSync(at('twice.pdf')).subarray(0, first.length), first)).toBe(0);
    checkedByTools(at('twice.pdf'), 2);
    const v = kyso(['pdf', 'verify', at('twice.pdf'), '--json']);
    const report = JSON.parse(v.stdout);
    expect(report.signatures.map((s: { integrity: { digest: string } }) => s.integrity.digest)).toEqual([
      'passed',
      'passed',
    ]);
  });

  test('verify: a good signature without trust anchors is indeterminate (3), shown in Vietnamese', () => {
    const r = kyso(['pdf', 'verify', at('pem.pdf')]);
    expect(r.code, r.stderr).toBe(2);
    for (const text of [
      'Người ký: Nguyễn Văn An',
      'Đơn vị quản lý',
      'Tổ chức cấp',
      'Thời điểm ký',
      'Tính toàn vẹn: toàn vẹn',
      'Hiệu lực tại thời điểm ký',
      'Thời hạn chứng thư số',
      'Kết luận: chưa xác định',
      'chưa kiểm tra chuỗi chứng thư',
    ])
      expect(r.stdout).toContain(text);
    expect(r.stdout).toMatch(/\+07:00/);
  });

  test('verify --lang en, with --ca: the chain is trusted, revocation keeps it indeterminate', () => {
    const r = kyso(['pdf', 'verify', at('pem.pdf'), '--lang', 'en', '--ca', pems.root]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('Signer: Nguyễn Văn An');
    expect(r.stdout).toContain('Integrity: intact');
    expect(r.stdout).not.toContain('chain not checked');
    expect(r.stdout).toContain('the revocation status cannot be determined');
    expect(r.stdout).toContain('Revocation status: cannot be determined');
  });

  test('verify --json: verdict and signatures[], dates as ISO strings', () => {
    const r = kyso(['pdf', 'verify', at('pem.pdf'), '--json', '--ca', pems.root]);
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('indeterminate');
    expect(report.signatures[0].verdict).toBe('indeterminate');
    expect(report.signatures[0].chain.status).toBe('trusted');
    expect(report.signatures[0].reasons).toEqual(['revocation-unknown']);
    expect(report.signatures[0].signer.notAfter).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  test('verify: a tampered file is invalid (1)', () => {
    const pdf = Buffer.from(readFileSync(at('pem.pdf')));
    const i = pdf.indexOf('Trang 1');
    pdf.write('Trang 9', i, 'latin1');
    writeFileSync(at('tampered.pdf'), pdf);
    const r = kyso(['pdf', 'verify', at('tampered.pdf'), '--lang', 'en']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain('Verdict: invalid');
    expect(r.stdout).toContain('digest mismatch');
  });

  test('verify: usage errors exit 3', () => {
    for (const args of [
      [],
      [at('pem.pdf'), '--lang', 'fr'],
      [at('missing.pdf')],
      [at('pem.pdf'), '--bogus'],
    ]) {
      const r = kyso(['pdf', 'verify', ...args]);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/^kyso: /);
    }
  });

  test('sign: B-LT, B-T without --tsa, bad appearance flags and two key sources are usage errors', () => {
    const base = ['pdf', 'sign', input, '--out', at('x.pdf'), '--key', ec.key, '--cert', ec.cert];
    const cases: [string[], RegExp][] = [
      [['--level', 'B-LT'], /needs --tsa/],
      [['--level', 'B-T'], /needs --tsa/],
      [['--level', 'B-X'], /--level must be/],
      [['--anchor', 'Nguyễn Văn An'], /--anchor needs --image/],
      [['--anchor', 'A', '--image', at('missing.png'), '--rect', '1,2,3,4'], /is width,height/],
      [['--seal'], /go with --image/],
      [['--image', at('missing.png')], /needs --rect/],
      [['--image', at('missing.png'), '--rect', '1,2,0,4'], /positive width/],
      [['--stamp', '15/QĐ-BNV', '--image', at('missing.png')], /text stamp/],
      [['--p12', at('rsa.p12')], /exactly one of/],
    ];
    for (const [extra, message] of cases) {
      const r = kyso([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(3);
      expect(r.stderr).toMatch(message);
    }
  });
});

describeWith(softHsmMissing() ?? toolMissing('pdfsig', 'qpdf'), 'kyso pdf sign with a SoftHSM2 key', () => {
  setUp();
  let token: ReturnType<typeof softHsmToken>;

  beforeAll(() => {
    token = softHsmToken('kyso-pdf');
  });
  afterAll(() => token?.remove());

  test('--pkcs11-token and --pkcs11-key sign; qpdf and pdfsig accept it', async () => {
    const spki = await tokenKey(token, 'pdf-signer');
    // The leaf helper needs only the public key of a TestKey.
    const cert = await pki.leaf({ spki, privateKey: makeKey('ec').privateKey }, 'Phạm Thị Dung');
    writeFileSync(at('hsm.crt'), toPem('CERTIFICATE', cert));
    const r = kyso(
      [
        'pdf',
        'sign',
        input,
        '--out',
        at('hsm.pdf'),
        '--pkcs11-token',
        token.label,
        '--pkcs11-key',
        'pdf-signer',
        '--cert',
        at('hsm.crt'),
        '--chain',
        pems.issuing,
      ],
      {
        env: { KYSO_PKCS11_PIN: token.pin, KYSO_PKCS11_MODULE: token.module },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    checkedByTools(at('hsm.pdf'), 1);
    const wrong = kyso(
      [
        'pdf',
        'sign',
        input,
        '--out',
        at('x.pdf'),
        '--pkcs11-token',
        token.label,
        '--pkcs11-key',
        'pdf-signer',
        '--cert',
        at('hsm.crt'),
      ],
      {
        env: { KYSO_PKCS11_PIN: '000000', KYSO_PKCS11_MODULE: token.module },
      },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^kyso: /);
  });
});

describeWith(toolMissing('pdfsig', 'qpdf'), 'kyso pdf sign --level B-T against a Kyso TSA', () => {
  setUp();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(tmp.dir, { name: 'sqlite' });
  });
  afterAll(() => server?.stop());

  test('the signature carries a time-stamp that verify reports', async () => {
    const key = makeKey('ec');
    const leaf = await writeLeaf(key, 'Hoàng Văn Em', 'bt');
    const r = await kysoAsync([
      'pdf',
      'sign',
      input,
      '--out',
      at('bt.pdf'),
      '--key',
      leaf.key,
      '--cert',
      leaf.cert,
      '--chain',
      pems.issuing,
      '--level',
      'B-T',
      '--tsa',
      `${server.url}/tsa`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    checkedByTools(at('bt.pdf'), 1);
    const v = await kysoAsync([
      'pdf',
      'verify',
      at('bt.pdf'),
      '--json',
      '--ca',
      pems.root,
      '--ca',
      server.rootPem,
    ]);
    const report = JSON.parse(v.stdout);
    const sig = report.signatures[0];
    expect(sig.timestamp.status).toBe('passed');
    expect(sig.signingTime).toBe(sig.timestamp.genTime);
    expect(Math.abs(Date.parse(sig.signingTime) - Date.now())).toBeLessThan(5 * 60_000);
    const human = await kysoAsync(['pdf', 'verify', at('bt.pdf')]);
    expect(human.stdout).toContain('(theo dấu thời gian)');
    expect(human.stdout).toContain('Đơn vị cấp dấu thời gian');
  });
});

describeWith(toolMissing('pdfsig', 'qpdf', 'pdftotext'), 'kyso pdf sign with visible appearances', () => {
  setUp();
  let leader: { key: string; cert: string };
  let clerk: { key: string; cert: string };

  beforeAll(async () => {
    leader = await writeLeaf(makeKey('ec'), 'Nguyễn Văn An', 'leader');
    clerk = await writeLeaf(makeKey('ec'), 'Văn thư', 'clerk');
    writeFileSync(at('signature.png'), strokePng(300, 120, [20, 40, 200]));
    writeFileSync(at('seal.png'), discPng(120, [220, 20, 20]));
  });

  test("the leader's image on the last page, then the seal over its left third", () => {
    const a = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('leader.pdf'),
      '--key',
      leader.key,
      '--cert',
      leader.cert,
      '--image',
      at('signature.png'),
      '--rect',
      '300,200,150,60',
      '--page',
      'last',
    ]);
    expect(a.code, a.stderr).toBe(0);
    checkedByTools(at('leader.pdf'), 1);
    const b = kyso([
      'pdf',
      'sign',
      at('leader.pdf'),
      '--out',
      at('sealed.pdf'),
      '--key',
      clerk.key,
      '--cert',
      clerk.cert,
      '--seal',
      '--image',
      at('seal.png'),
      '--rect',
      '270,200,60,60',
      '--page',
      'last',
    ]);
    expect(b.code, b.stderr).toBe(0);
    checkedByTools(at('sealed.pdf'), 2);
  });

  test('a text stamp top-right of page 1 with the number and the signing time in +07:00', () => {
    const r = kyso([
      'pdf',
      'sign',
      input,
      '--out',
      at('stamp.pdf'),
      '--key',
      clerk.key,
      '--cert',
      clerk.cert,
      '--stamp',
      'Số: 15/QĐ-BNV',
    ]);
    expect(r.code, r.stderr).toBe(0);
    checkedByTools(at('stamp.pdf'), 1);
    const text = run('pdftotext', ['-f', '1', '-l', '1', at('stamp.pdf'), '-']).stdout;
    expect(text).toMatch(/Số: 15\/QĐ-BNV; \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00/);
  });
});
