import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildOcspRequest, parseCertificate, parseOcspResponse, serialFromHex } from '../src/pki/index.js';
import { opensslCsr } from './support/ca.js';
import { describeWith, tempDir, toolMissing } from './support/env.js';
import { startTestServer, type TestServer } from './support/server.js';

// POST /ocsp as clients send it is answered before Fastify (src/http/routes/ocsp.ts); every other
// form of the request goes through the Fastify route. Both must say the same thing.
describeWith(toolMissing('openssl'), 'OCSP POST on the fast path and through Fastify', () => {
  let s: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  let serial: string;
  let request: Uint8Array;

  beforeAll(async () => {
    tmp = tempDir();
    s = await startTestServer(tmp.dir, { name: 'sqlite' });
    const { csr } = opensslCsr(tmp.dir, 'leaf', 'ec-p256', '/C=VN/CN=Fast path');
    const r = await s.authority.issue({ csr: readFileSync(csr), profile: 'individual', actor: 'test' });
    serial = r.serial;
    const [issuing] = await s.authority.chain();
    request = buildOcspRequest([
      { issuer: parseCertificate(issuing.certificate), serial: serialFromHex(serial) },
    ]);
  });
  afterAll(async () => {
    await s?.stop();
    tmp?.remove();
  });

  const post = async (path: string, contentType: string) => {
    const res = await fetch(`${s.url}${path}`, {
      method: 'POST',
      body: request,
      headers: { 'content-type': contentType },
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      cache: res.headers.get('cache-control'),
      body: Buffer.from(await res.arrayBuffer()),
    };
  };

  test('the same pre-signed answer and headers either way', async () => {
    const fast = await post('/ocsp', 'application/ocsp-request');
    const routed = [
      await post('/ocsp', 'application/octet-stream'),
      await post('/ocsp/', 'application/ocsp-request'),
    ];
    expect(fast).toMatchObject({
      status: 200,
      type: 'application/ocsp-response',
      cache: 'no-cache, no-store',
    });
    for (const r of routed) expect(r).toEqual(fast);
    expect(parseOcspResponse(fast.body).responses[0]).toMatchObject({ serialHex: serial, status: 'good' });
  });

  test('a revocation changes the answer to the same request bytes at once', async () => {
    expect(
      parseOcspResponse((await post('/ocsp', 'application/ocsp-request')).body).responses[0].status,
    ).toBe('good');
    await s.authority.revoke(serial, { reason: 'keyCompromise', actor: 'test' });
    const after = parseOcspResponse((await post('/ocsp', 'application/ocsp-request')).body).responses[0];
    expect(after).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
  });

  test('fast-path answers are counted like the others', async () => {
    const metric = async (pattern: RegExp) =>
      Number(pattern.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
    const requests = /kyso_http_requests_total\{service="ocsp",code="200"\} (\d+)/;
    const hits = /kyso_ocsp_cache_total\{result="hit"\} (\d+)/;
    const [requestsBefore, hitsBefore] = [await metric(requests), await metric(hits)];
    for (let i = 0; i < 3; i++) expect((await post('/ocsp', 'application/ocsp-request')).status).toBe(200);
    expect(await metric(requests)).toBe(requestsBefore + 3);
    expect(await metric(hits)).toBe(hitsBefore + 3);
  });
});
