import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CertificateAuthority } from '../../src/ca/index.js';
import { startServer } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config.js';
import { toPem } from '../../src/pki/index.js';
import { testEnv } from './ca.js';
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

/** Starts `kyso serve`'s server in-process on a free port, on a fresh (demo) CA in `dir`. */
export async function startTestServer(dir: string, db: TestDatabase): Promise<TestServer> {
  const e = await testEnv(db, { kind: 'soft' });
  const dataDir = path.join(dir, 'data');
  const config = loadConfig({
    dataDir,
    env: { ...e.env, KYSO_PORT: '0', KYSO_PUBLIC_URL: 'http://127.0.0.1' },
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
