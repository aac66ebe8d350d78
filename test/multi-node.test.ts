import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CertificateAuthority } from '../src/ca/index.js';
import { loadConfig } from '../src/config.js';
import {
  buildOcspRequest,
  type ParsedCertificate,
  parseCertificate,
  parseOcspResponse,
  serialFromHex,
  toPem,
} from '../src/pki/index.js';
import type { CertificateRecord } from '../src/store/index.js';
import { opensslCsr } from './support/ca.js';
import { describeWith, freshPostgres, kyso, ROOT, run, tempDir, toolMissing } from './support/env.js';
import { freePort } from './support/server.js';

// Issue 9 §5: several `kyso serve` processes on one PostgreSQL database behind a load balancer.
// Node B's clock runs 10 s ahead of node A's (libfaketime), as an unsynchronised clock would.
const pgUrl = process.env.KYSO_TEST_DATABASE_URL;
const SKEW = '+10s';
// libfaketime preloaded into the process itself (not the `faketime` wrapper, which would take
// SIGTERM in its place); the multi-threaded variant, as Node runs threads.
const FAKETIME_LIB = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
].find((f) => existsSync(f));
const SKEWED = { LD_PRELOAD: FAKETIME_LIB, FAKETIME: SKEW };
const DELTA_EVERY_S = 3;

interface Node {
  name: string;
  url: string;
  adminUrl?: string;
  log(): string;
  stop(): Promise<number | null>;
}

/** Starts `kyso serve` as its own process and waits for it to listen. */
async function startNode(name: string, env: NodeJS.ProcessEnv, adminPort?: number): Promise<Node> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env,
    KYSO_PORT: '0',
    KYSO_LOG_LEVEL: 'warn',
    ...(adminPort ? { KYSO_ADMIN_PORT: String(adminPort) } : {}),
  };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/run.ts'), 'serve'],
    { cwd: ROOT, env: childEnv },
  );
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${name} did not start: ${log}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stderr!.on('data', check);
    void exited.then(() => reject(new Error(`node ${name} exited: ${log}`)));
  });
  return {
    name,
    url,
    adminUrl: adminPort ? `http://127.0.0.1:${adminPort}` : undefined,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Asks a node about one certificate (nonce-less, so the node answers from its cache when it can). */
async function ask(node: Node, issuer: ParsedCertificate, serialHex: string) {
  const res = await fetch(`${node.url}/ocsp`, {
    method: 'POST',
    body: Buffer.from(buildOcspRequest([{ issuer, serial: serialFromHex(serialHex) }])),
    headers: { 'content-type': 'application/ocsp-request' },
  });
  expect(res.status).toBe(200);
  const der = Buffer.from(await res.arrayBuffer());
  const parsed = parseOcspResponse(der);
  expect(parsed.status).toBe('successful');
  return { status: parsed.responses[0].status, certs: parsed.certs, der };
}

/** Polls until `check` holds; returns how long it took, or throws after `giveUpMs`. */
async function within(giveUpMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > giveUpMs) throw new Error(`not within ${giveUpMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - started;
}

const missing =
  (pgUrl ? undefined : 'KYSO_TEST_DATABASE_URL (a PostgreSQL server)') ??
  (FAKETIME_LIB ? undefined : 'libfaketime (package faketime)') ??
  toolMissing('openssl');

describeWith(missing, `two kyso serve nodes on one PostgreSQL, clocks ${SKEW} apart`, () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  let ca: CertificateAuthority;
  let issuing: ParsedCertificate;
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    tmp = tempDir();
    db = await freshPostgres(pgUrl!);
    dataDir = path.join(tmp.dir, 'data');
    env = { KYSO_DATABASE_URL: db.url, KYSO_PUBLIC_URL: 'http://kyso.test', KYSO_DATA: dataDir };
    const init = kyso(['init', '--data', dataDir, '--demo'], { env });
    expect(init.code, init.stderr).toBe(0);
    // Both nodes share the data directory (the soft keys); a short CRL schedule to count ticks.
    const configFile = path.join(dataDir, 'kyso.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.crl = { checkSeconds: 1, deltaIntervalMinutes: DELTA_EVERY_S / 60, deltaValidityHours: 1 };
    writeFileSync(configFile, JSON.stringify(config));
    ca = await CertificateAuthority.open(loadConfig({ dataDir, env }));
    issuing = parseCertificate((await ca.chain())[0].certificate);
    writeFileSync(path.join(tmp.dir, 'issuing.pem'), toPem('CERTIFICATE', issuing.der));
    [a, b] = await Promise.all([
      startNode('A', env, await freePort()),
      startNode('B', { ...env, ...SKEWED }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await ca?.close();
    await db?.drop();
    tmp?.remove();
  });

  const issue = async (name: string) => {
    const { csr } = opensslCsr(tmp.dir, name, 'ec-p256', `/C=VN/O=Kyso Test/CN=${name}`);
    return ca.issue({ csr: readFileSync(csr), profile: 'individual', actor: 'test' });
  };

  test('the nodes really run 10 s apart', async () => {
    const dates = await Promise.all(
      [a, b].map(async (n) => Date.parse((await fetch(n.url)).headers.get('date')!)),
    );
    expect(dates[1] - dates[0]).toBeGreaterThanOrEqual(8000);
  });

  test('one CRL per schedule tick across the two nodes, from one of them', async () => {
    const first = (await ca.store.crls.latestNumber('issuing', 'delta')) ?? 0;
    await new Promise((r) => setTimeout(r, 4 * DELTA_EVERY_S * 1000 + 500));
    const crls = (
      await ca.store.kysely
        .selectFrom('crls')
        .select(['number', 'this_update', 'delta_base'])
        .where('ca_id', '=', 'issuing')
        .where('number', '>', first)
        .orderBy('number')
        .execute()
    ).filter((c) => c.delta_base !== null);
    // Two schedules would make about twice as many, at gaps of any length.
    expect(crls.length).toBeGreaterThanOrEqual(3);
    expect(crls.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < crls.length; i++) {
      expect(Number(crls[i].this_update) - Number(crls[i - 1].this_update)).toBeGreaterThanOrEqual(
        (DELTA_EVERY_S - 1) * 1000,
      );
    }
    const fulls = await ca.store.kysely
      .selectFrom('crls')
      .select('number')
      .where('ca_id', '=', 'issuing')
      .where('delta_base', 'is', null)
      .execute();
    expect(fulls, 'both nodes started at once, one full CRL').toHaveLength(1);
    const issuers = [a, b].filter((n) => /CRL \d+ \(delta\) of issuing/.test(n.log()));
    expect(issuers.map((n) => n.name)).toHaveLength(1);
  }, 30_000);

  /** Runs the command line as its own process, with node B's clock. */
  const skewedCli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/run.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env, ...SKEWED },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  // Both nodes answer "good" for these and keep that pre-signed answer, until the feed says otherwise.
  let held: CertificateRecord;
  let revoked: CertificateRecord;

  test('a hold made with node B’s clock is answered revoked (certificateHold) by both nodes within 1 s', async () => {
    held = await issue('Nguyen Van Mot');
    revoked = await issue('Nguyen Van Hai');
    for (const cert of [held, revoked]) {
      for (const n of [a, b]) {
        const good = await ask(n, issuing, cert.serial);
        expect(good.status).toBe('good');
        expect((await ask(n, issuing, cert.serial)).der).toEqual(good.der);
      }
    }
    const hold = await skewedCli(['cert', 'hold', held.serial, '--data', dataDir]);
    expect(hold.code, hold.stderr).toBe(0);
    for (const n of [a, b]) {
      expect(
        await within(3000, async () => (await ask(n, issuing, held.serial)).status === 'revoked'),
      ).toBeLessThan(1000);
    }
  }, 60_000);

  test('a revocation right after it, stamped 10 s earlier by node A’s clock, is answered revoked by both within 1 s', async () => {
    // Ordered by time instead of by commit, this change would sort before the hold both nodes
    // have already seen, and never be heard of.
    await ca.revoke(revoked.serial, { reason: 'keyCompromise', actor: 'test' });
    for (const n of [b, a]) {
      expect(
        await within(3000, async () => (await ask(n, issuing, revoked.serial)).status === 'revoked'),
      ).toBeLessThan(1000);
    }
    // An independent client agrees (node B's times are 10 s ahead, which openssl only warns about).
    const certPem = path.join(tmp.dir, 'hai.pem');
    writeFileSync(certPem, toPem('CERTIFICATE', revoked.der));
    const o = run('openssl', [
      'ocsp',
      '-issuer',
      path.join(tmp.dir, 'issuing.pem'),
      '-cert',
      certPem,
      '-url',
      `${b.url}/ocsp`,
      '-no_nonce',
      '-noverify',
      '-resp_text',
    ]);
    expect(o.stdout).toMatch(/: revoked/);
    expect(o.stdout).toMatch(/Revocation Reason: keyCompromise/);
  }, 30_000);

  /** A new key and certificate for a service, as a key ceremony would make, switched on in the database. */
  const rotate = async (service: 'ocsp' | 'tsa') => {
    const key = await (await ca.keyBackend()).generateKey(`kyso-${service}-rotated`, 'ec-p256');
    const record = await ca.issueForKey({
      profile: service,
      subject: `C=VN, O=Kyso Test, CN=Rotated ${service.toUpperCase()}`,
      publicKey: key.publicKey,
      actor: 'test',
    });
    await ca.transaction((tx) =>
      tx.settings.set(
        `service.${service}`,
        JSON.stringify({ serial: record.serial, keyRef: key.ref, algorithm: 'ECDSA-SHA256' }),
      ),
    );
    return record;
  };

  /** A time-stamp token from a node (openssl makes the request). */
  const stamp = async (node: Node) => {
    const data = path.join(tmp.dir, 'stamped.txt');
    const query = path.join(tmp.dir, 'stamped.tsq');
    writeFileSync(data, 'Kyso');
    const q = run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]);
    expect(q.code, q.stderr).toBe(0);
    const res = await fetch(`${node.url}/tsa`, {
      method: 'POST',
      body: readFileSync(query),
      headers: { 'content-type': 'application/timestamp-query' },
    });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  test('new OCSP and TSA certificates are used by both nodes without a restart', async () => {
    const cert = await issue('Nguyen Van Ba');
    for (const n of [a, b]) expect((await ask(n, issuing, cert.serial)).status).toBe('good');
    const before = [await stamp(a), await stamp(b)];
    const [responder, tsa] = [await rotate('ocsp'), await rotate('tsa')];
    for (const token of before) expect(token.includes(Buffer.from(tsa.der))).toBe(false);
    for (const n of [a, b]) {
      await within(6000, async () => {
        const answer = await ask(n, issuing, cert.serial);
        return answer.status === 'good' && Buffer.from(answer.certs[0] ?? []).equals(responder.der);
      });
      await within(6000, async () => (await stamp(n)).includes(Buffer.from(tsa.der)));
    }
    expect(`${a.log()}${b.log()}`.split('\n').filter((line) => /reloading.*failed/.test(line))).toEqual([]);
  }, 60_000);

  test('/metrics listens on the admin address when one is set, and only there', async () => {
    const admin = await fetch(`${a.adminUrl}/metrics`);
    expect(admin.status).toBe(200);
    expect(await admin.text()).toMatch(/kyso_http_requests_total\{service="ocsp"/);
    expect((await fetch(`${a.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${b.url}/metrics`)).status).toBe(200);
  });

  test('when the node issuing CRLs stops, the other one carries on', async () => {
    const [issuer, other] = /CRL \d+ \(delta\) of issuing/.test(a.log()) ? [a, b] : [b, a];
    const issued = () => (other.log().match(/CRL \d+ \(delta\) of issuing/g) ?? []).length;
    const before = issued();
    expect(await issuer.stop()).toBe(0);
    // A successor whose clock is behind waits for the skew too: the last delta looks that much newer.
    await within((DELTA_EVERY_S + 10) * 2000, async () => issued() > before);
  }, 45_000);
});
