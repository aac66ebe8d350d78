import { createHash } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { opensslCsr } from './support/ca.js';
import { describeWith, KYSO_CLI, kyso, kysoAsync, ROOT, run, tempDir, toolMissing } from './support/env.js';

// Issue 9 §1: commands that cannot surprise — help that does nothing else, one exit-code table,
// sentences instead of raw codes, atomic --out files, approved SANs only, a private database file.

/** Every file under a directory with its mode and content hash: what "nothing changed" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
    out[path.relative(dir, file)] = `${statSync(file).mode.toString(8)} ${hash}`;
  }
  return out;
}

/** Runs `work` on every item, `width` at a time, keeping the order of the results. */
async function inPool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

const EN = { LANG: 'en_US.UTF-8', LC_ALL: '', LC_MESSAGES: '' };
const VI = { LANG: 'vi_VN.UTF-8', LC_ALL: '', LC_MESSAGES: '' };

describeWith(toolMissing('openssl', 'bash'), 'commands that cannot surprise', () => {
  let tmp: ReturnType<typeof tempDir>;
  let data: string;
  let serial: string;
  const file = (name: string) => path.join(tmp.dir, name);
  const serialOf = (pem: string) =>
    run('openssl', ['x509', '-in', pem, '-noout', '-serial']).stdout.trim().split('=')[1];

  beforeAll(() => {
    tmp = tempDir();
    data = file('data');
    expect(kyso(['init', '--data', data, '--demo']).code).toBe(0);
    opensslCsr(tmp.dir, 'me', 'ec-p256', '/C=VN/O=Sở Nội vụ/CN=Nguyễn Văn A');
    const issued = kyso([
      'cert',
      'issue',
      '--data',
      data,
      '--csr',
      file('me.csr'),
      '--profile',
      'individual',
      '--out',
      file('me.pem'),
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    serial = serialOf(file('me.pem'));
    expect(kyso(['ca', 'chain', '--data', data, '--out', file('chain.pem')]).code).toBe(0);
    writeFileSync(file('in.pdf'), '%PDF-1.7\n');
    writeFileSync(file('t.tsr'), 'not a reply');
    run('mkdir', ['-p', file('csrs')]);
    opensslCsr(file('csrs'), 'one', 'ec-p256');
  });
  afterAll(() => tmp?.remove());

  /** Every command and subcommand, each with arguments that would make it act. */
  const commandLines = (): string[][] => {
    const d = ['--data', data];
    return [
      ['init', '--data', file('fresh'), '--root-name', 'C=VN, CN=Thử'],
      ['cert', 'issue', ...d, '--csr', file('me.csr'), '--profile', 'individual', '--out', file('o1.pem')],
      ['cert', 'renew', serial, ...d, '--out', file('o2.pem')],
      ['cert', 'change', serial, ...d, '--subject', 'C=VN, CN=Khác', '--out', file('o3.pem')],
      ['cert', 'revoke', serial, '--reason', 'keyCompromise', ...d],
      ['cert', 'hold', serial, ...d],
      ['cert', 'release', serial, ...d],
      ['cert', 'show', serial, ...d, '--out', file('o4.pem')],
      ['cert', 'list', ...d],
      ['cert', 'bulk', ...d, '--dir', file('csrs'), '--profile', 'individual', '--out-dir', file('bulk')],
      ['crl', ...d, '--out', file('o5.crl')],
      ['crl', '--latest', ...d, '--out', file('o6.crl')],
      ['ca', 'chain', ...d, '--out', file('o7.pem')],
      ['ca', 'list', ...d],
      ['audit', 'verify', ...d],
      ['serve', ...d, '--port', '0'],
      ['ocsp', 'check', file('me.pem'), '--issuer', file('chain.pem'), '--url', 'http://127.0.0.1:9/ocsp'],
      ['ts', 'stamp', file('me.pem'), '--out', file('o8.tsr'), '--url', 'http://127.0.0.1:9/tsa'],
      ['ts', 'verify', file('me.pem'), file('t.tsr')],
      [
        'pdf',
        'sign',
        file('in.pdf'),
        '--out',
        file('o9.pdf'),
        '--key',
        file('me.key'),
        '--cert',
        file('me.pem'),
      ],
      ['pdf', 'extend', file('in.pdf'), '--out', file('o10.pdf')],
      ['pdf', 'verify', file('in.pdf'), '--report', file('o11.pdf')],
    ];
  };

  test('--help or -h anywhere prints the help and changes nothing, for every command', async () => {
    const before = snapshot(tmp.dir);
    // Every command the top-level help names: those not listed above get a line of their own.
    const named = new Set([...kyso(['--help']).stdout.matchAll(/^kyso ([a-z]+)/gm)].map((m) => m[1]));
    const listed = commandLines();
    for (const c of named) if (!listed.some((l) => l[0] === c)) listed.push([c, 'SOMETHING', '--data', data]);
    // Appended, and in the middle of the line right after the (sub)command.
    const lines = listed.flatMap((line) => [
      [...line, '--help'],
      [...line.slice(0, 2), '-h', ...line.slice(2)],
    ]);
    const results = await inPool(lines, 4, (args) => kysoAsync(args, { timeoutMs: 60_000 }));
    for (const [i, r] of results.entries()) {
      const what = lines[i].join(' ');
      expect(r.stderr, what).toBe('');
      expect(r.code, what).toBe(0);
      expect(r.stdout.startsWith(`kyso ${lines[i][0]}`), `${what}\n${r.stdout}`).toBe(true);
    }
    expect(snapshot(tmp.dir)).toEqual(before);
    expect(JSON.parse(kyso(['cert', 'show', serial, '--data', data, '--json']).stdout).status).toBe('active');
  }, 600_000);

  test('--version, kyso help COMMAND, and revoke --help lists only the reasons an operator may give', () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    expect(kyso(['--version'])).toMatchObject({ code: 0, stdout: `kyso ${version}\n` });
    const help = kyso(['help', 'cert']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(kyso(['cert', '--help']).stdout);
    const reasons = /revoke SERIAL --reason REASON +REASON: (.*)/.exec(help.stdout)?.[1].split(', ');
    expect(reasons).toEqual([
      'unspecified',
      'keyCompromise',
      'caCompromise',
      'affiliationChanged',
      'superseded',
      'cessationOfOperation',
      'privilegeWithdrawn',
    ]);
    expect(help.stdout).not.toMatch(/certificateHold|removeFromCRL/);
    const refused = kyso(['cert', 'revoke', serial, '--reason', 'certificateHold', '--data', data]);
    expect(refused.code).toBe(3);
    expect(kyso(['help', 'frobnicate']).code).toBe(3);
  });

  test('a usage error exits 3 from every command, with one line', async () => {
    // One line per command group, and the commands that catch their own errors (verdict commands).
    const groups = new Map<string, string[]>();
    for (const line of commandLines()) if (!groups.has(line[0])) groups.set(line[0], line);
    const lines = [
      ...groups.values(),
      ...commandLines().filter((l) => l[1] === 'verify' || l[1] === 'check'),
    ];
    const results = await inPool(lines, 4, (line) =>
      kysoAsync([...line, '--no-such-option'], { env: EN, timeoutMs: 60_000 }),
    );
    for (const [i, r] of results.entries()) {
      const what = lines[i].join(' ');
      expect(r.code, `${what}\n${r.stderr}`).toBe(3);
      expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(
        /^kyso: The command line is not right: .*no-such-option.*See: kyso help/,
      );
    }
  }, 300_000);

  test('errors are sentences in the chosen language with the raw code in parentheses', () => {
    const args = ['cert', 'issue', '--data', data, '--csr', file('none.csr'), '--profile', 'individual'];
    const vi = kyso(args, { env: VI });
    expect(vi.code).toBe(3);
    expect(vi.stderr).toMatch(/^kyso: Lệnh gọi chưa đúng: .*không tìm thấy tệp hoặc thư mục \(ENOENT\)/);
    expect(kyso(args, { env: EN }).stderr).toMatch(/no such file or directory \(ENOENT\)/);
    expect(kyso([...args, '--lang', 'en'], { env: VI }).stderr).toMatch(
      /no such file or directory \(ENOENT\)/,
    );
    // No locale (or C) is Vietnamese: the product's first language.
    const c = kyso(args, { env: { LANG: 'C.UTF-8', LC_ALL: '', LC_MESSAGES: '' } });
    expect(c.stderr).toMatch(/Lệnh gọi chưa đúng/);
    const unknown = kyso(['cert', 'show', '0A0B0C0D', '--data', data], { env: EN });
    expect(unknown.stderr).toBe(
      'kyso: No such certificate: no certificate with serial 0A0B0C0D (unknown-certificate)\n',
    );
    expect(kyso(['cert', 'list', '--data', data, '--lang', 'fr']).code).toBe(3);
  });

  test('--out replaces a file by rename, never rewriting the old one in place', () => {
    const out = file('atomic.pem');
    writeFileSync(out, 'the previous good file\n');
    linkSync(out, file('atomic-old.pem'));
    expect(kyso(['cert', 'show', serial, '--data', data, '--out', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(file('me.pem'), 'utf8'));
    // A write in place would have changed the other name of the same file too.
    expect(readFileSync(file('atomic-old.pem'), 'utf8')).toBe('the previous good file\n');
    const bad = kyso(['ca', 'chain', '--data', data, '--out', path.join(file('me.pem'), 'x.pem')], {
      env: EN,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^kyso: Cannot write .*x\.pem: .*\(ENOTDIR\)\n$/);
    expect(readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('an output that fails after the commit names what to fetch instead of issuing again', () => {
    const count = () => JSON.parse(kyso(['cert', 'list', '--data', data, '--json']).stdout).length;
    const before = count();
    const args = ['cert', 'issue', '--data', data, '--csr', file('me.csr'), '--profile', 'individual'];
    const r = kyso([...args, '--out', '/dev/full'], { env: EN });
    expect(r.code).toBe(5);
    const m =
      /^kyso: Certificate ([0-9A-F]+) was issued and stored\. Cannot write \/dev\/full: .*\(ENOSPC\)\. Do not run it again; fetch it with: kyso cert show \1 --out \/dev\/full\n$/.exec(
        r.stderr,
      );
    expect(m, r.stderr).not.toBeNull();
    expect(count()).toBe(before + 1);
    const fetched = kyso(['cert', 'show', m![1], '--data', data, '--out', file('fetched.pem')]);
    expect(fetched.code).toBe(0);
    expect(serialOf(file('fetched.pem'))).toBe(m![1]);

    const crl = kyso(['crl', '--data', data, '--out', '/dev/full'], { env: VI });
    expect(crl.code).toBe(5);
    const n = /CRL số (\d+) của (\w+) đã được lập và lưu\..*\(ENOSPC\).*kyso crl --latest --ca \2 --out/.exec(
      crl.stderr,
    );
    expect(n, crl.stderr).not.toBeNull();
    expect(kyso(['crl', '--latest', '--data', data, '--out', file('latest.crl')]).code).toBe(0);
    const text = run('openssl', ['crl', '-in', file('latest.crl'), '-noout', '-crlnumber']).stdout;
    expect(Number.parseInt(text.trim().split('=')[1], 16)).toBe(Number(n![1]));
  });

  test('writing to a closed pipe ends quietly', () => {
    const r = run('bash', [
      '-c',
      `"${process.execPath}" "${KYSO_CLI}" cert list --data "${data}" 2>"${file('pipe.err')}" | (exec 0<&-; sleep 1)`,
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(file('pipe.err'), 'utf8')).toBe('');
  });

  test('a device certificate carries the approved names, not the ones the CSR lists', () => {
    const csr = file('device.csr');
    run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      file('device.key'),
      '-subj',
      '/C=VN/O=Sở TT&TT/CN=portal.hagiang.gov.vn',
      '-utf8',
      '-addext',
      'subjectAltName=DNS:mail.google.com,DNS:portal.hagiang.gov.vn',
      '-out',
      csr,
    ]);
    const r = kyso([
      'cert',
      'issue',
      '--data',
      data,
      '--csr',
      csr,
      '--profile',
      'device',
      '--san',
      'dns:www.hagiang.gov.vn',
      '--out',
      file('device.pem'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const san = run('openssl', [
      'x509',
      '-in',
      file('device.pem'),
      '-noout',
      '-ext',
      'subjectAltName',
    ]).stdout;
    expect(san).toContain('DNS:portal.hagiang.gov.vn');
    expect(san).toContain('DNS:www.hagiang.gov.vn');
    expect(san).not.toContain('google');
  });

  test('the SQLite database file is private to its owner', () => {
    expect(statSync(path.join(data, 'kyso.db')).mode & 0o777).toBe(0o600);
  });
});
