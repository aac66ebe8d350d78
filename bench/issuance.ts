import { sign as cryptoSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CertificateAuthority, defaultCeremony, runCeremony } from '../src/ca/index.js';
import { loadConfig } from '../src/config.js';
import { opensslCsr } from '../test/support/ca.js';
import { freshPostgres, tempDir } from '../test/support/env.js';

export interface IssuanceResult {
  database: 'sqlite' | 'postgres';
  certificates: number;
  seconds: number;
  perSecond: number;
  rawSignPerSecond: number;
  ratio: number;
}

/** Raw ECDSA P-256 signatures per second with node:crypto over certificate-sized data: the ceiling. */
export function rawSignRate(seconds = 2): number {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = randomBytes(600);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    n += 100;
  }
  return n / seconds;
}

/** Issues `count` certificates through the CA engine from prepared CSRs, `concurrency` in flight. */
export async function issuanceBench(
  database: 'sqlite' | 'postgres',
  count: number,
  concurrency = 32,
): Promise<IssuanceResult> {
  const tmp = tempDir('kyso-bench-');
  const env: NodeJS.ProcessEnv = { KYSO_PUBLIC_URL: 'http://kyso.bench' };
  let drop = async () => {};
  if (database === 'postgres') {
    const admin = process.env.KYSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const pg = await freshPostgres(admin);
    env.KYSO_DATABASE_URL = pg.url;
    drop = pg.drop;
  }
  try {
    const config = loadConfig({ dataDir: path.join(tmp.dir, 'data'), env });
    await runCeremony(config, defaultCeremony());
    const ca = await CertificateAuthority.open(config);
    const csrs = Array.from({ length: 16 }, (_, i) =>
      readFileSync(opensslCsr(tmp.dir, `b${i}`, 'ec-p256', `/C=VN/O=Bench/CN=Subscriber ${i}`).csr),
    );
    // Warm up: the signer, prepared statements, JIT.
    for (let i = 0; i < 200; i++)
      await ca.issue({ csr: csrs[i % csrs.length], profile: 'individual', actor: 'bench' });
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          await ca.issue({ csr: csrs[i % csrs.length], profile: 'individual', actor: 'bench' });
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    await ca.close();
    const raw = rawSignRate();
    return {
      database,
      certificates: count,
      seconds,
      perSecond: count / seconds,
      rawSignPerSecond: raw,
      ratio: count / seconds / raw,
    };
  } finally {
    await drop();
    tmp.remove();
  }
}
