import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { publicUrls } from '../src/ca/index.js';
import {
  buildCertificate,
  ext,
  parseCertificate,
  parseOcspResponse,
  randomSerial,
  toPem,
} from '../src/pki/index.js';
import { opensslCsr } from './support/ca.js';
import { describeWith, kysoAsync, run, tempDir, toolMissing } from './support/env.js';
import { startTestServer, type TestServer } from './support/server.js';

/** One line on stderr, nothing else: what every failing command must print. */
function oneLineError(r: { code: number; stderr: string }, code: number, text: RegExp) {
  expect(r.code).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kyso: /);
  expect(lines[0]).toMatch(text);
}

const kyso = kysoAsync;

/** A local URL nothing listens on: a port the system just gave out and took back. */
async function closedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}/ocsp`;
}

/** An HTTP relay in front of a URL that alters each answer: a man in the middle, or a replaying cache. */
async function relay(
  target: string,
  alter: (answer: Uint8Array) => Uint8Array,
): Promise<{ url: string; close(): Promise<void> }> {
  const s = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const answer = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Buffer.concat(chunks),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
    res.end(alter(new Uint8Array(await answer.arrayBuffer())));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ocsp`,
    close: () => new Promise((resolve) => s.close(() => resolve())),
  };
}

describeWith(toolMissing('openssl'), 'the OCSP and time-stamp clients', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: TestServer;
  let certPem: string;
  let serial: string;
  let issuedDer: Uint8Array;
  const file = (name: string) => path.join(tmp.dir, name);
  const ocsp = (...args: string[]) =>
    kyso(['ocsp', 'check', certPem, '--issuer', server.issuingPem, '--url', `${server.url}/ocsp`, ...args]);

  beforeAll(async () => {
    tmp = tempDir();
    server = await startTestServer(tmp.dir, { name: 'sqlite' });
    const { csr } = opensslCsr(tmp.dir, 'me', 'ec-p256', '/C=VN/O=UBND tỉnh Hà Giang/CN=Nguyễn Văn A');
    const record = await server.authority.issue({
      csr: readFileSync(csr),
      profile: 'individual',
      actor: 'test',
    });
    serial = record.serial;
    issuedDer = record.der;
    certPem = file('me.pem');
    writeFileSync(certPem, toPem('CERTIFICATE', record.der));
  });
  afterAll(async () => {
    await server?.stop();
    tmp?.remove();
  });

  test('ocsp check: a good certificate by POST, with the nonce checked', async () => {
    const r = await ocsp();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Trạng thái / Status: good (còn hiệu lực)\n');
    expect(r.stdout).toContain('Nonce: đã kiểm tra / checked');
    expect(r.stdout).toMatch(/Máy chủ trả lời \/ Responder: .*CN=Kyso Demo OCSP Responder/);
  });

  test('ocsp check --get, with and without a nonce (the pre-signed answer)', async () => {
    const r = await ocsp('--get');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Status: good');
    const cached = await ocsp('--get', '--no-nonce', '--json');
    expect(cached.code).toBe(0);
    const out = JSON.parse(cached.stdout);
    expect(out).toMatchObject({ status: 'good', nonceChecked: false });
    expect(Object.keys(out).sort()).toEqual(
      ['nextUpdate', 'nonceChecked', 'responder', 'status', 'thisUpdate'].sort(),
    );
    expect(Date.parse(out.nextUpdate)).toBeGreaterThan(Date.parse(out.thisUpdate));
  });

  test('ocsp check of the issuing CA: the root answers itself, without a delegated responder', async () => {
    const r = await kyso([
      'ocsp',
      'check',
      server.issuingPem,
      '--issuer',
      server.rootPem,
      '--url',
      `${server.url}/ocsp`,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'good',
      responder: expect.stringContaining('Root CA'),
    });
  });

  test('ocsp check from the AIA URLs alone: a certificate the CA never recorded is unknown', async () => {
    // Signed with the issuing CA's key but kept out of the database, with AIA URLs that reach the server.
    const caId = await server.authority.defaultCaId();
    const issuer = await server.authority.issuer(caId);
    const signer = await server.authority.caSigner(caId);
    const template = parseCertificate(issuedDer);
    const urls = publicUrls(server.url, caId);
    const now = Date.now();
    const der = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: issuer.cert.subjectDer,
        subject: template.subjectDer,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
        publicKey: template.publicKey,
        signatureAlgorithm: issuer.algorithm,
        extensions: [ext.authorityInfoAccess({ ocsp: [urls.ocsp], caIssuers: [urls.caIssuers] })],
      },
      (tbs) => signer.sign(tbs),
    );
    writeFileSync(file('stray.der'), der);
    const r = await kyso(['ocsp', 'check', file('stray.der')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Trạng thái / Status: unknown (không xác định)');
  });

  test('ocsp check: revoked, with the reason and time; exit 1', async () => {
    await server.authority.revoke(serial, { reason: 'keyCompromise', actor: 'test' });
    const r = await ocsp();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Trạng thái / Status: revoked (đã thu hồi)');
    expect(r.stdout).toContain('Lý do / Reason: keyCompromise');
    expect(r.stdout).toMatch(/Thu hồi lúc \/ Revoked at: \d{4}-\d\d-\d\dT/);
    const json = await ocsp('--get', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
      revokedAt: expect.stringMatching(/Z$/),
      nonceChecked: true,
    });
  });

  // Known bug: CertificateAuthority.changeStatus drops the responder's in-memory copy of the pre-signed
  // answer but not the stored one, so the nonce-less answer stays "good" after revocation (the
  // supersession path does delete it). Turn this into `test` once changeStatus forgets the stored answer.
  test('ocsp check --get --no-nonce after revocation: the pre-signed answer is replaced', async () => {
    const r = await ocsp('--get', '--no-nonce', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
  });

  test('ocsp check: what cannot be checked exits 4 with one line; usage errors exit 3', async () => {
    const refused = await closedUrl();
    oneLineError(
      await kyso(['ocsp', 'check', certPem, '--issuer', server.issuingPem, '--url', refused]),
      4,
      /cannot reach .*ECONNREFUSED/,
    );
    oneLineError(
      await kyso(['ocsp', 'check', certPem, '--issuer', server.rootPem, '--url', `${server.url}/ocsp`]),
      4,
      /did not issue/,
    );
    oneLineError(
      await kyso(['ocsp', 'check', file('nope.pem'), '--url', `${server.url}/ocsp`]),
      3,
      /cannot read/,
    );
    oneLineError(await kyso(['ocsp', 'check', certPem, '--url', 'file:///etc/passwd']), 3, /http\(s\) URL/);
    // A key (or anything else) given where a certificate belongs is a usage error, not "cannot check".
    writeFileSync(file('me.key'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    oneLineError(await kyso(['ocsp', 'check', file('me.key')]), 3, /not a readable certificate/);
    oneLineError(
      await kyso(['cert', 'verify', certPem, '--ca', file('me.key')]),
      3,
      /not a readable CA bundle/,
    );
  });

  test('ocsp check: a forged signature or a replayed answer exits 4', async () => {
    const forged = await relay(`${server.url}/ocsp`, (der) => {
      const copy = Uint8Array.from(der);
      const sig = parseOcspResponse(der).signature!;
      copy[sig.byteOffset - der.byteOffset + 10] ^= 0x01;
      return copy;
    });
    let first: Uint8Array | undefined;
    const replay = await relay(`${server.url}/ocsp`, (der) => {
      first ??= der;
      return first;
    });
    try {
      const args = ['ocsp', 'check', certPem, '--issuer', server.issuingPem, '--url'];
      oneLineError(await kyso([...args, forged.url]), 4, /signature does not verify/);
      // The first answer passes (revoked, since the test above); the same answer again must not.
      expect((await kyso([...args, replay.url])).code).toBe(1);
      oneLineError(await kyso([...args, replay.url]), 4, /nonce is not the request's/);
    } finally {
      await forged.close();
      await replay.close();
    }
  });

  test('ts stamp, then ts verify with the CA bundle, and openssl ts -verify agrees', async () => {
    const doc = file('công văn.txt');
    writeFileSync(doc, 'Công văn số 123/UBND-VP về việc ký số.\n');
    const tsr = file('doc.tsr');
    const s = await kyso(['ts', 'stamp', doc, '--out', tsr, '--hash', 'sha384'], {
      env: { KYSO_PUBLIC_URL: `${server.url}/` },
    });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/Thời điểm \/ Time: \S+Z \(giờ Việt Nam \/ Vietnam time \S+\+07:00\)/);
    expect(s.stdout).toMatch(/Số hiệu \/ Serial: [0-9A-F]+/);

    const bundle = file('bundle.pem');
    writeFileSync(bundle, readFileSync(server.rootPem, 'utf8') + readFileSync(server.issuingPem, 'utf8'));
    const v = await kyso(['ts', 'verify', doc, tsr, '--ca', bundle, '--json']);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const out = JSON.parse(v.stdout);
    expect(out).toMatchObject({ valid: true, hashAlgorithm: 'sha384', chainChecked: true });
    expect(out.tsa).toContain('CN=Kyso Demo Time-Stamp Authority');
    expect(Date.parse(out.genTimeVietnam)).toBe(Date.parse(out.genTime));
    expect(out.genTimeVietnam.slice(11, 13)).toBe(
      String((Number(out.genTime.slice(11, 13)) + 7) % 24).padStart(2, '0'),
    );

    const human = await kyso(['ts', 'verify', doc, tsr]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Hợp lệ / Valid:');
    expect(human.stdout).toContain('not checked (no --ca)');

    const o = run('openssl', [
      'ts',
      '-verify',
      '-data',
      doc,
      '-in',
      tsr,
      '-CAfile',
      server.rootPem,
      '-untrusted',
      server.issuingPem,
    ]);
    expect(o.stdout + o.stderr).toContain('Verification: OK');

    // A bare token (what a CMS or PDF signature embeds) verifies too.
    const token = file('doc.tst');
    expect(run('openssl', ['ts', '-reply', '-in', tsr, '-token_out', '-out', token]).code).toBe(0);
    expect((await kyso(['ts', 'verify', doc, token, '--ca', bundle])).code).toBe(0);
  });

  test('ts verify: a modified file, a foreign CA or garbage exit 1 with one line', async () => {
    const doc = file('report.pdf');
    writeFileSync(doc, 'bản gốc');
    const tsr = file('report.tsr');
    expect((await kyso(['ts', 'stamp', doc, '--url', `${server.url}/tsa`, '--out', tsr])).code).toBe(0);
    writeFileSync(doc, 'bản đã sửa');
    oneLineError(await kyso(['ts', 'verify', doc, tsr]), 1, /invalid time-stamp: .*sha256 hash differs/);
    writeFileSync(doc, 'bản gốc');
    oneLineError(await kyso(['ts', 'verify', doc, tsr, '--ca', certPem]), 1, /does not chain to --ca/);
    oneLineError(await kyso(['ts', 'verify', doc, certPem]), 1, /neither a time-stamp reply nor a token/);
    oneLineError(await kyso(['ts', 'stamp', doc]), 3, /--out/);
    oneLineError(await kyso(['ts', 'stamp', doc, '--out', tsr, '--hash', 'md5']), 3, /--hash/);
  });
});
