import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type RunningServer, startServer } from '../src/cli/serve.js';
import { loadConfig } from '../src/config.js';
import {
  buildOcspRequest,
  type ParsedCertificate,
  parseCertificate,
  parseOcspResponse,
  serialFromHex,
} from '../src/pki/index.js';
import { opensslCsr } from './support/ca.js';
import { describeWith, tempDir, toolMissing } from './support/env.js';
import { clusterMissing, throwawayCluster } from './support/postgres-cluster.js';

// The CRL schedule checks this often here (a minute in service): the outage spans several of its ticks.
const CRL_CHECK_MS = 300;
const OUTAGE_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(clusterMissing() ?? toolMissing('openssl'), 'the server through a PostgreSQL outage', () => {
  let cluster: Awaited<ReturnType<typeof throwawayCluster>>;
  let server: RunningServer;
  let tmp: ReturnType<typeof tempDir>;
  let issuer: ParsedCertificate;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    tmp = tempDir();
    cluster = await throwawayCluster();
    const config = loadConfig({
      dataDir: path.join(tmp.dir, 'data'),
      env: { KYSO_DATABASE_URL: cluster.url, KYSO_PORT: '0', KYSO_PUBLIC_URL: 'http://127.0.0.1' },
    });
    server = await startServer(config, { log: () => {}, logger: false, crlCheckEveryMs: CRL_CHECK_MS });
    issuer = parseCertificate((await server.authority.chain())[0].certificate);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.stop();
    cluster?.remove();
    tmp?.remove();
  });

  const ocsp = async (serial: string) => {
    const res = await fetch(`${server.url}/ocsp`, {
      method: 'POST',
      body: buildOcspRequest([{ issuer, serial: serialFromHex(serial) }]),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    return parseOcspResponse(new Uint8Array(await res.arrayBuffer()));
  };

  test('OCSP answers from cache, JSON routes say 503, /readyz reports it, and all recovers', async () => {
    const csr = readFileSync(
      opensslCsr(tmp.dir, 'leaf', 'ec-p256', '/C=VN/O=Sở Nội vụ/CN=Trần Thị Bình').csr,
    );
    const issue = async () =>
      (await server.authority.issue({ csr, profile: 'individual', actor: 'test' })).serial;
    const asked = await issue();
    const notAsked = await issue();
    expect((await ocsp(asked)).responses[0].status).toBe('good');

    cluster.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    let cachedAnswers = 0;
    // At least five rounds, and on until the outage has spanned several CRL ticks.
    for (let round = 0; round < 5 || Date.now() < outageEnds; round++) {
      // Cached answers keep coming, under load.
      const answers = await Promise.all(Array.from({ length: 20 }, () => ocsp(asked)));
      for (const a of answers) expect(a.responses[0].status).toBe('good');
      cachedAnswers += answers.length;
      // A question the cache cannot answer is told to come back, in OCSP.
      expect((await ocsp(notAsked)).status).toBe('tryLater');
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toMatch(
        /^unavailable/,
      );
      const search = await fetch(`${server.url}/repository/certificates?q=tran`);
      expect(search.status).toBe(503);
      expect(search.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(search.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await search.text()).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|5432/);
      await sleep(100);
    }
    expect(cachedAnswers).toBeGreaterThanOrEqual(100);

    cluster.start();
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(`${server.url}/readyz`)).status;
      if (ready !== 200) await sleep(100);
    }
    expect(ready).toBe(200);
    expect((await ocsp(notAsked)).responses[0].status).toBe('good');
    await server.authority.revoke(asked, { reason: 'keyCompromise', actor: 'test' });
    expect((await ocsp(asked)).responses[0].status).toBe('revoked');
    // The CRL schedule's ticks during and after the outage left no rejection unheard.
    await sleep(CRL_CHECK_MS * 3);
    expect(unhandled).toEqual([]);
  });
});
