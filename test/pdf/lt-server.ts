import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { startServer } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config.js';
import { buildTimeStampRequest, parseTimeStampResponse, toPem } from '../../src/pki/index.js';
import { testEnv } from '../support/ca.js';
import type { TestServer } from '../support/server.js';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A Kyso server whose public URL is the one it listens on, so that the OCSP and CRL URLs its
 * certificates name really answer (startTestServer's certificates name a URL without the port).
 */
export async function startPublicTestServer(dir: string): Promise<TestServer> {
  const e = await testEnv({ name: 'sqlite' }, { kind: 'soft' });
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  const config = loadConfig({
    dataDir,
    env: { ...e.env, KYSO_PORT: String(port), KYSO_PUBLIC_URL: `http://127.0.0.1:${port}` },
  });
  const server = await startServer(config, { log: () => {}, logger: false });
  const [issuing, root] = await server.authority.chain();
  const rootPem = path.join(dir, 'root.pem');
  const issuingPem = path.join(dir, 'issuing.pem');
  writeFileSync(rootPem, toPem('CERTIFICATE', root.certificate));
  writeFileSync(issuingPem, toPem('CERTIFICATE', issuing.certificate));
  return {
    url: server.url,
    authority: server.authority,
    dataDir,
    rootPem,
    issuingPem,
    async stop() {
      await server.stop();
      await e.drop();
    },
  };
}

/** A time-stamp token over a SHA-256 imprint from the TSA at url (a Kyso server's /tsa). */
export async function tsaToken(url: string, imprint: Uint8Array): Promise<Uint8Array> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: buildTimeStampRequest({ hashAlgorithm: 'sha256', messageImprint: imprint, certReq: true }),
  });
  const reply = parseTimeStampResponse(new Uint8Array(await res.arrayBuffer()));
  if (!reply.token) throw new Error(`the TSA refused: ${reply.status}`);
  return reply.token;
}
