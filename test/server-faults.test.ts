import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  buildOcspRequest,
  type ParsedCertificate,
  parseCertificate,
  parseOcspResponse,
  serialFromHex,
} from '../src/pki/index.js';
import { opensslCsr } from './support/ca.js';
import { describeWith, tempDir, toolMissing } from './support/env.js';
import { startTestServer, type TestServer } from './support/server.js';

/** One HTTP/1.1 request written byte for byte, as curl sends a URL it does not encode. */
async function rawGet(url: string, target: string): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((resolve) => socket.on('connect', resolve));
  socket.write(
    Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`, 'utf8'),
  );
  await new Promise((resolve) => socket.on('close', resolve));
  const text = Buffer.concat(chunks).toString('utf8');
  const [head, ...body] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), head, body: body.join('\r\n\r\n') };
}

describeWith(toolMissing('openssl'), 'the server under SQLite write faults and odd requests', () => {
  let s: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  let issuer: ParsedCertificate;
  let csr: Buffer;

  beforeAll(async () => {
    tmp = tempDir();
    s = await startTestServer(tmp.dir, { name: 'sqlite' });
    issuer = parseCertificate((await s.authority.chain())[0].certificate);
    csr = readFileSync(opensslCsr(tmp.dir, 'leaf', 'ec-p256', '/C=VN/O=Sở Nội vụ/CN=Nguyễn Văn An').csr);
  });
  afterAll(async () => {
    await s?.stop();
    tmp?.remove();
  });

  const issue = async () => (await s.authority.issue({ csr, profile: 'individual', actor: 'test' })).serial;
  const ocsp = async (serial: string) => {
    const started = performance.now();
    const res = await fetch(`${s.url}/ocsp`, {
      method: 'POST',
      body: buildOcspRequest([{ issuer, serial: serialFromHex(serial) }]),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    const body = new Uint8Array(await res.arrayBuffer());
    return {
      http: res.status,
      type: res.headers.get('content-type'),
      ms: performance.now() - started,
      answer: parseOcspResponse(body),
    };
  };

  test('another process holding the write lock neither fails nor stalls OCSP answers', async () => {
    const cached = await issue();
    const fresh = await issue();
    await ocsp(cached);
    const other = new SQLite(path.join(s.dataDir, 'kyso.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      // The miss cannot store its answer: it is sent anyway, without waiting out a busy timeout.
      const [miss, ...hits] = await Promise.all([ocsp(fresh), ocsp(cached), ocsp(cached), ocsp(cached)]);
      expect(miss).toMatchObject({ http: 200, type: 'application/ocsp-response' });
      expect(miss.answer.status).toBe('successful');
      expect(miss.answer.responses[0].status).toBe('good');
      for (const h of [miss, ...hits]) expect(h.ms).toBeLessThan(1000);
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  test('a full disk still sends every signed answer, and /readyz reports it', async () => {
    const serials: string[] = [];
    for (let i = 0; i < 30; i++) serials.push(await issue());
    const db = s.authority.store.kysely;
    const pageCount = Number(
      (await sql<{ page_count: number }>`PRAGMA page_count`.execute(db)).rows[0].page_count,
    );
    expect(pageCount).toBeGreaterThan(0);
    // SQLite answers SQLITE_FULL once the file would grow past this, as on a full disk.
    await sql.raw(`PRAGMA max_page_count = ${pageCount}`).execute(db);
    try {
      for (const serial of serials) {
        const r = await ocsp(serial);
        expect(r).toMatchObject({ http: 200, type: 'application/ocsp-response' });
        expect(r.answer.responses[0].status).toBe('good');
      }
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.storage).toMatch(/^full/);
    } finally {
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(db);
    }
  });

  test('a raw UTF-8 query string, as curl sends it, gets an answer', async () => {
    await issue();
    for (const target of [
      '/repository/certificates?q=Nguyễn Văn An',
      '/repository/certificates?q=Nguyễn%20Văn%20An',
      '/repository/certificates?q=nguyen van an',
    ]) {
      const r = await rawGet(s.url, target);
      expect({ target, status: r.status }).toEqual({ target, status: 200 });
      const items = JSON.parse(r.body).items as { commonName: string }[];
      expect(items.length).toBeGreaterThan(0);
      expect(items[0].commonName).toBe('Nguyễn Văn An');
    }
    // A control character is still refused, as a problem document.
    const bad = await rawGet(s.url, '/repository/certificates?q=a\x01b');
    expect(bad.status).toBe(400);
    expect(bad.head).toMatch(/content-type: application\/problem\+json/i);
  });
});
