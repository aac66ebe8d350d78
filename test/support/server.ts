import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { CertificateAuthority } from '../../src/ca/index.js';
import { startServer } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config.js';
import { toPem } from '../../src/pki/index.js';
import { opensslCsr, testEnv } from './ca.js';
import type { TestDatabase } from './env.js';

export interface TestServer {
  url: string;
  authority: CertificateAuthority;
  dataDir: string;
  /** PEM files of the root and issuing CA certificates. */
  rootPem: string;
  issuingPem: string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Starts `kyso serve`'s server in-process on a free port, on a fresh (demo) CA in `dir`. With
 * `publicUrl`, the URL its certificates name (OCSP, CRL, CA issuers) is the one it listens on, so they
 * really answer; otherwise they name a URL without a port.
 */
export async function startTestServer(
  dir: string,
  db: TestDatabase,
  options: { publicUrl?: boolean } = {},
): Promise<TestServer> {
  const e = await testEnv(db, { kind: 'soft' });
  const dataDir = path.join(dir, 'data');
  const port = options.publicUrl ? await freePort() : 0;
  const publicUrl = options.publicUrl ? `http://127.0.0.1:${port}` : 'http://127.0.0.1';
  const config = loadConfig({
    dataDir,
    env: { ...e.env, KYSO_PORT: String(port), KYSO_PUBLIC_URL: publicUrl },
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

/** A P-256 key (openssl) and its certificate from the running CA, as PEM files in dir. */
export async function enrol(
  server: TestServer,
  dir: string,
  name: string,
  subject: string,
  profile: 'individual' | 'organization' = 'individual',
): Promise<{ key: string; cert: string; der: Uint8Array; serial: string }> {
  const { csr, key } = opensslCsr(dir, name, 'ec-p256', subject);
  const record = await server.authority.issue({ csr: readFileSync(csr), profile, actor: 'test' });
  const cert = path.join(dir, `${name}.crt`);
  writeFileSync(cert, toPem('CERTIFICATE', record.der));
  return { key, cert, der: record.der, serial: record.serial };
}
