import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  buildOcspRequest,
  fromPem,
  parseCertificate,
  parseCrl,
  parseOcspResponse,
  parseTimeStampResponse,
  randomSerial,
} from '../src/pki/index.js';
import { opensslCsr, writePem } from './support/ca.js';
import { describeWith, run, runAsync, tempDir, testDatabases, toolMissing } from './support/env.js';
import { startTestServer, type TestServer } from './support/server.js';

for (const { db, missing } of testDatabases()) {
  describeWith(missing ?? toolMissing('openssl', 'ocsptool'), `the server on ${db.name}`, () => {
    let s: TestServer;
    let tmp: ReturnType<typeof tempDir>;
    const leaf: Record<'good' | 'revoked' | 'second', { pem: string; serial: string }> = {} as never;
    const file = (n: string) => path.join(tmp.dir, n);

    beforeAll(async () => {
      tmp = tempDir();
      s = await startTestServer(tmp.dir, db);
      for (const name of ['good', 'revoked', 'second'] as const) {
        const { csr } = opensslCsr(tmp.dir, name, 'ec-p256', `/C=VN/O=Sở Nội vụ/CN=Cán bộ ${name}`);
        const r = await s.authority.issue({ csr: readFileSync(csr), profile: 'individual', actor: 'test' });
        leaf[name] = { pem: writePem(tmp.dir, `${name}.pem`, 'CERTIFICATE', r.der), serial: r.serial };
      }
    });
    afterAll(async () => {
      await s?.stop();
      tmp?.remove();
    });

    const ocsp = (args: string[]) =>
      runAsync('openssl', [
        'ocsp',
        '-issuer',
        s.issuingPem,
        '-url',
        `${s.url}/ocsp`,
        '-CAfile',
        s.rootPem,
        ...args,
      ]);

    test('health, readiness and metrics', async () => {
      expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      // A nonce makes a fresh signature, which the signing-latency metric counts.
      await ocsp(['-cert', leaf.good.pem]);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain('kyso_http_requests_total');
      expect(metrics).toMatch(/kyso_signing_duration_seconds_count\{service="ocsp"\} [1-9]/);
    });

    test('openssl ocsp: good, with and without a nonce, and several certificates in one request', async () => {
      const withNonce = await ocsp(['-cert', leaf.good.pem]);
      expect(withNonce.stderr).toContain('Response verify OK');
      expect(withNonce.stdout).toContain(`${leaf.good.pem}: good`);
      expect(withNonce.stderr + withNonce.stdout).not.toContain('WARNING: no nonce');
      const noNonce = await ocsp(['-cert', leaf.good.pem, '-no_nonce']);
      expect(noNonce.stdout).toContain(`${leaf.good.pem}: good`);
      const several = await ocsp(['-cert', leaf.good.pem, '-cert', leaf.second.pem]);
      expect(several.stderr).toContain('Response verify OK');
      expect(several.stdout).toContain(`${leaf.good.pem}: good`);
      expect(several.stdout).toContain(`${leaf.second.pem}: good`);
    });

    test('a revocation shows over OCSP at once, with its reason, and in the next delta CRL', async () => {
      expect((await ocsp(['-cert', leaf.revoked.pem, '-no_nonce'])).stdout).toContain(': good');
      await s.authority.revoke(leaf.revoked.serial, { reason: 'keyCompromise', actor: 'test' });
      const r = await ocsp(['-cert', leaf.revoked.pem, '-no_nonce']);
      expect(r.stderr).toContain('Response verify OK');
      expect(r.stdout).toContain(`${leaf.revoked.pem}: revoked`);
      expect(r.stdout).toContain('Reason: keyCompromise');
      let delta: ReturnType<typeof parseCrl> | undefined;
      for (let i = 0; i < 40 && !delta?.entries.some((e) => e.serialHex === leaf.revoked.serial); i++) {
        await new Promise((ok) => setTimeout(ok, 250));
        const res = await fetch(`${s.url}/crl/issuing-delta.crl`);
        if (res.ok) delta = parseCrl(new Uint8Array(await res.arrayBuffer()));
      }
      expect(delta?.entries.find((e) => e.serialHex === leaf.revoked.serial)?.reason).toBe('keyCompromise');
    });

    test('unknown for a serial we never issued; unauthorized for an issuer we do not serve', async () => {
      const issuing = parseCertificate(fromPem(readFileSync(s.issuingPem, 'utf8'))[0]);
      const request = buildOcspRequest([{ issuer: issuing, serial: randomSerial() }], {
        nonce: randomBytes(16),
      });
      const res = await fetch(`${s.url}/ocsp`, {
        method: 'POST',
        body: request,
        headers: { 'content-type': 'application/ocsp-request' },
      });
      const answer = parseOcspResponse(new Uint8Array(await res.arrayBuffer()));
      expect(answer.status).toBe('successful');
      expect(answer.responses[0].status).toBe('unknown');
      // A certificate from elsewhere names an issuer we do not serve.
      const { csr, key } = opensslCsr(tmp.dir, 'foreign', 'ec-p256');
      expect(
        run('openssl', ['x509', '-req', '-in', csr, '-key', key, '-days', '1', '-out', file('foreign.pem')])
          .code,
      ).toBe(0);
      const other = await runAsync('openssl', [
        'ocsp',
        '-issuer',
        file('foreign.pem'),
        '-cert',
        file('foreign.pem'),
        '-url',
        `${s.url}/ocsp`,
        '-no_nonce',
      ]);
      expect(other.stdout + other.stderr).toMatch(/unauthorized/i);
    });

    test('GET requests are cacheable: max-age, ETag, Last-Modified, and 304 on a matching ETag', async () => {
      const req = file('get.der');
      run('openssl', ['ocsp', '-issuer', s.issuingPem, '-cert', leaf.good.pem, '-no_nonce', '-reqout', req]);
      const encoded = encodeURIComponent(readFileSync(req).toString('base64'));
      const res = await fetch(`${s.url}/ocsp/${encoded}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/ocsp-response');
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      expect(res.headers.get('last-modified')).toBeTruthy();
      const etag = res.headers.get('etag')!;
      const body = new Uint8Array(await res.arrayBuffer());
      expect(parseOcspResponse(body).responses[0]).toMatchObject({
        serialHex: leaf.good.serial,
        status: 'good',
      });
      writeFileSync(file('get-resp.der'), body);
      const v = run('openssl', [
        'ocsp',
        '-respin',
        file('get-resp.der'),
        '-issuer',
        s.issuingPem,
        '-CAfile',
        s.rootPem,
        '-reqin',
        req,
        '-no_nonce',
      ]);
      expect(v.stderr).toContain('Response verify OK');
      expect((await fetch(`${s.url}/ocsp/${encoded}`, { headers: { 'if-none-match': etag } })).status).toBe(
        304,
      );
      const post = await fetch(`${s.url}/ocsp`, {
        method: 'POST',
        body: readFileSync(req),
        headers: { 'content-type': 'application/ocsp-request' },
      });
      expect(post.headers.get('cache-control')).toBe('no-cache, no-store');
    });

    test('GnuTLS ocsptool agrees', async () => {
      const r = await runAsync('ocsptool', [
        `--ask=${s.url}/ocsp`,
        '--load-issuer',
        s.issuingPem,
        '--load-cert',
        leaf.good.pem,
        '--load-signer',
        s.issuingPem,
        '--outfile',
        file('gnutls.der'),
      ]);
      expect(r.stdout + r.stderr).toMatch(/Certificate Status: good/);
      expect(r.stdout + r.stderr).toMatch(/Verifying OCSP Response: Success/);
    });

    test('openssl ts: query, POST, verify', async () => {
      writeFileSync(file('doc.txt'), 'Quyết định số 15/QĐ-BNV');
      for (const hash of ['sha256', 'sha384', 'sha512']) {
        run('openssl', [
          'ts',
          '-query',
          '-data',
          file('doc.txt'),
          `-${hash}`,
          '-cert',
          '-out',
          file('q.tsq'),
        ]);
        const res = await fetch(`${s.url}/tsa`, {
          method: 'POST',
          body: readFileSync(file('q.tsq')),
          headers: { 'content-type': 'application/timestamp-query' },
        });
        expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
        writeFileSync(file('r.tsr'), new Uint8Array(await res.arrayBuffer()));
        const v = run('openssl', [
          'ts',
          '-verify',
          '-queryfile',
          file('q.tsq'),
          '-in',
          file('r.tsr'),
          '-CAfile',
          s.rootPem,
          '-untrusted',
          s.issuingPem,
        ]);
        expect(v.stdout, hash).toContain('Verification: OK');
      }
      run('openssl', [
        'ts',
        '-query',
        '-data',
        file('doc.txt'),
        '-sha256',
        '-tspolicy',
        '1.2.3.4',
        '-out',
        file('p.tsq'),
      ]);
      const policy = await fetch(`${s.url}/tsa`, {
        method: 'POST',
        body: readFileSync(file('p.tsq')),
        headers: { 'content-type': 'application/timestamp-query' },
      });
      expect(parseTimeStampResponse(new Uint8Array(await policy.arrayBuffer()))).toMatchObject({
        status: 2,
        failInfo: 'unacceptedPolicy',
      });
      run('openssl', ['ts', '-query', '-data', file('doc.txt'), '-sha1', '-out', file('s1.tsq')]);
      const sha1 = await fetch(`${s.url}/tsa`, {
        method: 'POST',
        body: readFileSync(file('s1.tsq')),
        headers: { 'content-type': 'application/timestamp-query' },
      });
      expect(parseTimeStampResponse(new Uint8Array(await sha1.arrayBuffer()))).toMatchObject({
        status: 2,
        failInfo: 'badAlg',
      });
    });

    test('CRLs and CA certificates are served as RFC 2585 says, and openssl reads them', async () => {
      for (const [url, type] of [
        ['/crl/issuing.crl', 'application/pkix-crl'],
        ['/crl/root.crl', 'application/pkix-crl'],
        ['/ca/issuing.cer', 'application/pkix-cert'],
        ['/ca/root.cer', 'application/pkix-cert'],
      ]) {
        const res = await fetch(`${s.url}${url}`);
        expect(res.status, url).toBe(200);
        expect(res.headers.get('content-type')).toBe(type);
        writeFileSync(file('served.der'), new Uint8Array(await res.arrayBuffer()));
        const tool =
          type === 'application/pkix-crl'
            ? ['crl', '-CAfile', url.includes('root') ? s.rootPem : s.issuingPem]
            : ['x509'];
        const r = run('openssl', [...tool, '-inform', 'DER', '-in', file('served.der'), '-noout']);
        expect(r.code, `${url}: ${r.stderr}`).toBe(0);
      }
      expect((await fetch(`${s.url}/crl/nosuch.crl`)).status).toBe(404);
    });

    test('the repository: search, details and downloads, errors as problem+json', async () => {
      const found = (await (
        await fetch(`${s.url}/repository/certificates?q=${encodeURIComponent('cán bộ')}&status=active`)
      ).json()) as { items: { commonName: string; status: string }[] };
      expect(found.items.map((c: { commonName: string }) => c.commonName)).toEqual(
        expect.arrayContaining(['Cán bộ good', 'Cán bộ second']),
      );
      expect(found.items.every((c: { status: string }) => c.status === 'active')).toBe(true);
      const byOrg = (await (
        await fetch(`${s.url}/repository/certificates?org=${encodeURIComponent('Sở Nội vụ')}`)
      ).json()) as { items: unknown[] };
      expect(byOrg.items.length).toBeGreaterThanOrEqual(3);
      // Accents and case do not matter, đ included.
      const plain = async (q: string, param = 'q') =>
        (
          (await (
            await fetch(`${s.url}/repository/certificates?${param}=${encodeURIComponent(q)}`)
          ).json()) as {
            items: { commonName: string }[];
          }
        ).items.map((c) => c.commonName);
      expect(await plain('CAN BO GOOD')).toEqual(['Cán bộ good']);
      expect((await plain('so noi vu', 'org')).length).toBe(byOrg.items.length);
      const one = await (
        await fetch(`${s.url}/repository/certificates/${leaf.revoked.serial.toLowerCase()}`)
      ).json();
      expect(one).toMatchObject({
        serial: leaf.revoked.serial,
        status: 'revoked',
        revocationReason: 'keyCompromise',
      });
      const cer = await fetch(`${s.url}/repository/certificates/${leaf.good.serial}.cer`);
      expect(cer.headers.get('content-type')).toBe('application/pkix-cert');
      const pem = await (await fetch(`${s.url}/repository/certificates/${leaf.good.serial}.pem`)).text();
      expect(pem).toBe(readFileSync(leaf.good.pem, 'utf8'));
      const missing = await fetch(`${s.url}/repository/certificates/0A0B0C0D`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await missing.json()).toMatchObject({ status: 404, title: 'Not found' });
      const bad = await fetch(`${s.url}/repository/certificates?status=weird`);
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/repository/certificates', '/repository/certificates/{serial}']),
      );
      expect((await fetch(`${s.url}/api/docs/`)).status).toBe(200);
    });

    test('garbage, truncated, oversized and deeply nested bodies get protocol errors fast and never stall the server', async () => {
      const req = readFileSync(file('get.der'));
      const tsq = readFileSync(file('q.tsq'));
      const nested = Buffer.concat([
        ...Array.from({ length: 5000 }, () => Buffer.from([0x30, 0x82, 0xff, 0xff])),
      ]);
      const bodies: Buffer[] = [
        Buffer.alloc(0),
        randomBytes(1),
        randomBytes(100),
        randomBytes(60_000),
        nested,
        Buffer.from([0x30, 0x80, 0x30, 0x80, 0, 0, 0, 0]),
        ...Array.from({ length: 30 }, (_, i) => req.subarray(0, Math.floor((req.length * i) / 30))),
        ...Array.from({ length: 30 }, () => {
          const m = Buffer.from(req);
          m[Math.floor(Math.random() * m.length)] ^= 1 << Math.floor(Math.random() * 8);
          return m;
        }),
      ];
      const started = Date.now();
      for (const body of bodies) {
        const o = await fetch(`${s.url}/ocsp`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/ocsp-request' },
        });
        expect(o.status).toBe(200);
        const bytes = new Uint8Array(await o.arrayBuffer());
        const parsed = (() => {
          try {
            return parseOcspResponse(bytes);
          } catch (e) {
            throw new Error(
              `answer to ${body.toString('hex').slice(0, 80)}… (${body.length} bytes) does not parse: ${e}; ${Buffer.from(bytes).toString('hex').slice(0, 80)}`,
            );
          }
        })();
        expect(['successful', 'malformedRequest', 'unauthorized']).toContain(parsed.status);
        const t = await fetch(`${s.url}/tsa`, {
          method: 'POST',
          body: body.length ? body : tsq.subarray(0, 5),
          headers: { 'content-type': 'application/timestamp-query' },
        });
        expect(t.status).toBe(200);
        expect([0, 2]).toContain(parseTimeStampResponse(new Uint8Array(await t.arrayBuffer())).status);
      }
      expect(Date.now() - started).toBeLessThan(20_000);
      const big = await fetch(`${s.url}/ocsp`, {
        method: 'POST',
        body: randomBytes(70_000),
        headers: { 'content-type': 'application/ocsp-request' },
      });
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const bigTsa = await fetch(`${s.url}/tsa`, {
        method: 'POST',
        body: randomBytes(70_000),
        headers: { 'content-type': 'application/timestamp-query' },
      });
      expect(bigTsa.status).toBe(413);
      const badGet = await fetch(`${s.url}/ocsp/not*base64`);
      expect(parseOcspResponse(new Uint8Array(await badGet.arrayBuffer())).status).toBe('malformedRequest');
      expect((await fetch(`${s.url}/ocsp/%%%not-url-encoded`)).status).toBe(400);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      expect((await ocsp(['-cert', leaf.good.pem])).stdout).toContain(': good');
    });
  });
}
