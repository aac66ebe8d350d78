import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CrlSchedule } from '../src/ca/index.js';
import { main } from '../src/cli/main.js';
import { type RunningServer, startServer } from '../src/cli/serve.js';
import { loadConfig } from '../src/config.js';
import { parseCertificate, parseCrl, toPem, verifySignature } from '../src/pki/index.js';
import { Store } from '../src/store/index.js';
import {
  describeWith,
  kyso,
  kysoAsync,
  run,
  runAsync,
  softHsmMissing,
  softHsmToken,
  tempDir,
  toolMissing,
} from './support/env.js';

const DAY = 86_400_000;

// The ceremony as an operator runs it: `kyso init` with the root on its own data directory, the
// online server on the other, and the next ceremony's CRL and OCSP answers carried over by file.
describeWith(toolMissing('openssl'), 'an offline root', () => {
  let tmp: ReturnType<typeof tempDir>;
  let online: string;
  let offline: string;
  let server: RunningServer;
  const logged: string[] = [];
  let rootPem: string;
  let issuingPem: string;
  const file = (name: string) => path.join(tmp.dir, name);

  beforeAll(async () => {
    tmp = tempDir();
    // Each `kyso` run starts a TypeScript loader; on a loaded machine that takes seconds.
    online = file('online');
    offline = file('root');
    const init = kyso([
      'init',
      '--data',
      online,
      '--root-data',
      offline,
      '--root-name',
      'C=VN, O=Ban Cơ yếu Chính phủ, CN=Root CA G1',
      '--presigned-days',
      '400',
    ]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`key in ${offline}`);
    server = await startServer(loadConfig({ dataDir: online, env: { KYSO_PORT: '0' } }), {
      log: (m) => logged.push(m),
      logger: false,
    });
    const [issuing, root] = await server.authority.chain();
    rootPem = file('root.pem');
    issuingPem = file('issuing.pem');
    writeFileSync(rootPem, toPem('CERTIFICATE', root.certificate));
    writeFileSync(issuingPem, toPem('CERTIFICATE', issuing.certificate));
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    tmp?.remove();
  });

  const ocsp = (extra: string[] = []) =>
    // Not `run`: the server answers from this process, so the event loop must stay free.
    runAsync('openssl', [
      'ocsp',
      '-issuer',
      rootPem,
      ...extra,
      '-cert',
      issuingPem,
      '-url',
      `${server.url}/ocsp`,
      '-CAfile',
      rootPem,
      '-no_nonce',
    ]);

  test('the online data directory has the root certificate but never its key', async () => {
    expect(readdirSync(path.join(online, 'keys')).filter((f) => f.includes('root'))).toEqual([]);
    expect(readdirSync(path.join(offline, 'keys')).filter((f) => f.includes('root'))).toHaveLength(1);
    await expect(server.authority.caSigner('root')).rejects.toMatchObject({ code: 'offline-ca' });
    // The root's data directory holds the root alone: it issues nothing online.
    const cas = JSON.parse(kyso(['ca', 'list', '--data', offline, '--json']).stdout) as { id: string }[];
    expect(cas.map((c) => c.id)).toEqual(['root']);
  });

  test('the server publishes the root’s pre-signed CRL, which openssl verifies, and signs none itself', async () => {
    const res = await fetch(`${server.url}/crl/root.crl`);
    expect(res.status).toBe(200);
    const der = new Uint8Array(await res.arrayBuffer());
    writeFileSync(file('root.crl'), der);
    const v = run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      file('root.crl'),
      '-noout',
      '-CAfile',
      rootPem,
      '-verify',
    ]);
    expect(v.stderr + v.stdout).toContain('verify OK');
    const crl = parseCrl(der);
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(400 * DAY);
    expect(crl.extensions.some((e) => e.oid === '2.5.29.46')).toBe(false);
    const numbers = async () => (await server.authority.store.crls.latestNumber('root', 'full')) ?? 0;
    expect(await numbers()).toBe(1);
    expect(await server.authority.store.crls.latestNumber('root', 'delta')).toBeUndefined();
  });

  test('the issuing CA’s status is the root’s pre-signed OCSP answer, for SHA-1 and SHA-256 CertIDs', async () => {
    for (const hash of [[], ['-sha256']]) {
      const r = await ocsp([...hash, '-resp_text']);
      expect(r.stderr).toContain('Response verify OK');
      expect(r.stdout).toContain(`${issuingPem}: good`);
      const next = /Next Update: (.+)/.exec(r.stdout)?.[1];
      expect(new Date(next!).getTime() - Date.now()).toBeGreaterThan(399 * DAY);
    }
  });

  test('the issuing CA’s delta CRL exists from the first start', async () => {
    const res = await fetch(`${server.url}/crl/issuing-delta.crl`);
    expect(res.status).toBe(200);
    const delta = parseCrl(new Uint8Array(await res.arrayBuffer()));
    expect(delta.deltaBase).toBeDefined();
    expect(delta.entries).toEqual([]);
  });

  test('a CRL not signed by the offline root is refused at import', async () => {
    const res = await fetch(`${server.url}/crl/issuing.crl`);
    writeFileSync(file('issuing.crl'), new Uint8Array(await res.arrayBuffer()));
    const r = await kysoAsync(['root', 'import', '--data', online, file('issuing.crl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not from this installation’s offline root/);
  });

  test('the next ceremony: the root revokes and re-signs, the import reaches the running server, which warns before the end', async () => {
    const issuingSerial = (await server.authority.search({ caId: 'root' }))[0].serial;
    const revoke = await kysoAsync([
      'cert',
      'revoke',
      issuingSerial,
      '--reason',
      'caCompromise',
      '--data',
      offline,
    ]);
    expect(revoke.code).toBe(0);
    const crl = await kysoAsync([
      'root',
      'crl',
      '--data',
      offline,
      '--days',
      '10',
      '--out',
      file('next.crl'),
    ]);
    expect(crl.code).toBe(0);
    const answers = await kysoAsync([
      'root',
      'ocsp',
      '--data',
      offline,
      '--days',
      '10',
      '--out-dir',
      file('answers'),
    ]);
    expect(answers.code).toBe(0);
    const files = readdirSync(file('answers')).map((f) => path.join(file('answers'), f));
    expect(files).toHaveLength(2);
    const imported = await kysoAsync(['root', 'import', '--data', online, file('next.crl'), ...files]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    // Importing the same answers again is refused: nothing older replaces what is stored.
    expect((await kysoAsync(['root', 'import', '--data', online, files[0]])).code).toBe(1);

    // The running server learns of the imported revocation by polling (every 2 s).
    let r = await ocsp();
    for (let i = 0; i < 20 && !r.stdout.includes('revoked'); i++) {
      await new Promise((ok) => setTimeout(ok, 500));
      r = await ocsp();
    }
    expect(r.stderr).toContain('Response verify OK');
    expect(r.stdout).toContain(`${issuingPem}: revoked`);
    const served = parseCrl(new Uint8Array(await (await fetch(`${server.url}/crl/root.crl`)).arrayBuffer()));
    expect(served.entries.map((e) => e.serialHex)).toEqual([issuingSerial]);

    // Ten days left is inside the 30-day warning: the log, /readyz and /metrics say so.
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.offlineRoot).toMatch(/^warning: the pre-signed .* runs out at/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const left = /kyso_offline_root_presigned_expiry_seconds\{ca="root",kind="crl",what="2"\} (\d+)/.exec(
      metrics,
    );
    expect(Number(left?.[1])).toBeLessThanOrEqual(10 * 86_400);
    logged.length = 0;
    const schedule = new CrlSchedule(server.authority, {
      expiring: (i) => logged.push(`${i.kind} ${i.what}`),
    });
    await schedule.runOnce();
    await schedule.stop();
    expect(logged).toEqual(expect.arrayContaining(['crl 2', `ocsp ${issuingSerial}`]));
    expect(readFileSync(file('next.crl'), 'utf8')).toContain('BEGIN X509 CRL');
  }, 300_000);
});

describeWith(softHsmMissing(), 'an offline root on its own token', () => {
  let tmp: ReturnType<typeof tempDir>;
  let token: ReturnType<typeof softHsmToken>;
  beforeAll(() => {
    tmp = tempDir();
    token = softHsmToken('kyso-root');
  });
  afterAll(() => {
    token?.remove();
    tmp?.remove();
  });

  test('kyso init --root-backend pkcs11 makes the root key on the token and soft keys online', async () => {
    const online = path.join(tmp.dir, 'online');
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), interactive: false };
    process.env.KYSO_ROOT_PKCS11_PIN = token.pin;
    try {
      const code = await main(
        [
          'init',
          '--data',
          online,
          '--root-data',
          path.join(tmp.dir, 'root'),
          '--root-backend',
          'pkcs11',
          '--root-pkcs11-module',
          token.module,
          '--root-token-label',
          token.label,
          '--root-name',
          'C=VN, O=Bộ Quốc phòng, CN=Root CA',
          '--json',
        ],
        io,
      );
      expect(out.join('')).not.toContain('kyso:');
      expect(code).toBe(0);
    } finally {
      delete process.env.KYSO_ROOT_PKCS11_PIN;
    }
    const rootSettings = JSON.parse(readFileSync(path.join(tmp.dir, 'root', 'kyso.json'), 'utf8'));
    expect(rootSettings.keys).toMatchObject({ backend: 'pkcs11', tokenLabel: token.label });
    expect(readdirSync(path.join(online, 'keys')).filter((f) => f.includes('root'))).toEqual([]);
    const store = await Store.open(loadConfig({ dataDir: online, env: {} }).database);
    try {
      const root = (await store.cas.get('root'))!;
      expect(root.keyRef).toBe('offline:root');
      const crl = parseCrl((await store.crls.latest('root', 'full'))!.der);
      const key = parseCertificate(root.certificate).publicKey;
      expect(verifySignature(crl.signatureAlgorithm, key, crl.tbs, crl.signature)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
