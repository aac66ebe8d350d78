import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { Store } from '../src/store/index.js';
import { opensslCsr } from '../test/support/ca.js';
import { ROOT, run, tempDir } from '../test/support/env.js';
import { kysoCli, startKyso, writeIn } from './kyso-server.js';

/** What one load child measured. */
export interface Load {
  requests: number;
  failures: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SearchBenchResult {
  certificates: number;
  /** OCSP alone, then with `searchers` concurrent searches, in the same run on the same server. */
  alone: Load;
  underSearch: Load;
  searchers: number;
  searches: Load;
}

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ'];
const MIDDLE = ['Văn', 'Thị', 'Minh', 'Đức', 'Thu', 'Ngọc'];
const GIVEN = ['An', 'Bình', 'Cường', 'Dũng', 'Đào', 'Giang', 'Hà', 'Khánh', 'Lan', 'Long', 'Mai', 'Nam'];
const SECONDS = 5;

/**
 * OCSP p99 (8 keep-alive clients, pre-signed answer) on `kyso serve` over SQLite holding `certificates` certificates,
 * alone and while `searchers` clients search the repository without pause (issue 9 §2).
 */
export async function searchBench(certificates: number, searchers = 4): Promise<SearchBenchResult> {
  const tmp = tempDir('kyso-bench-search-');
  try {
    const dataDir = path.join(tmp.dir, 'data');
    mkdirSync(dataDir);
    let server = await startKyso(dataDir);
    const csr = opensslCsr(tmp.dir, 'leaf', 'ec-p256', '/C=VN/O=Bench/CN=Search Bench').csr;
    const leafPem = path.join(tmp.dir, 'leaf.pem');
    kysoCli(['cert', 'issue', '--data', dataDir, '--csr', csr, '--profile', 'individual', '--out', leafPem]);
    await server.stop();
    await seed(dataDir, certificates);
    server = await startKyso(dataDir);
    try {
      const chain = kysoCli(['ca', 'chain', '--data', dataDir]);
      const issuing = writeIn(
        tmp.dir,
        'issuing.pem',
        chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26),
      );
      const req = path.join(tmp.dir, 'req.der');
      const r = run('openssl', ['ocsp', '-issuer', issuing, '-cert', leafPem, '-no_nonce', '-reqout', req]);
      if (r.code !== 0) throw new Error(r.stderr);
      const alone = await load('ocsp', server.url, 8, SECONDS, req);
      const [underSearch, searches] = await Promise.all([
        load('ocsp', server.url, 8, SECONDS, req),
        load('search', server.url, searchers, SECONDS),
      ]);
      return { certificates, alone, underSearch, searchers, searches };
    } finally {
      await server.stop();
    }
  } finally {
    tmp.remove();
  }
}

/** Copies of the one issued certificate under random Vietnamese names and fresh serials. */
async function seed(dataDir: string, n: number): Promise<void> {
  const store = await Store.open(loadConfig({ dataDir, env: {} }).database);
  try {
    const [leaf] = await store.certificates.search({ profile: 'individual', limit: 1 });
    const pick = <T>(a: T[], i: number) => a[i % a.length];
    for (let done = 0; done < n; done += 500) {
      const batch = Array.from({ length: Math.min(500, n - done) }, (_, k) => {
        const i = done + k;
        const name = `${pick(FAMILY, i * 7)} ${pick(MIDDLE, i * 3)} ${pick(GIVEN, i)}`;
        const serial = (0x10000000 + i).toString(16).toUpperCase().padStart(32, '0');
        return {
          ...leaf,
          serial,
          commonName: name,
          subject: `C=VN, O=Bench, CN=${name}`,
          fingerprint: serial,
          createdAt: new Date(leaf.createdAt.getTime() - i * 1000),
        };
      });
      await store.transaction((tx) => tx.certificates.insertMany(batch));
    }
  } finally {
    await store.close();
  }
}

/** Runs bench/search-load.ts in a process of its own, so the load does not share this one's thread. */
function load(
  mode: 'ocsp' | 'search',
  url: string,
  workers: number,
  seconds: number,
  file = '',
): Promise<Load> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench/search-load.ts'),
      mode,
      url,
      String(workers),
      String(seconds),
      file,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${mode} load exited ${code}`)),
    );
  });
}
