import { sign as cryptoSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CertificateAuthority, defaultCeremony, runCeremony } from '../src/ca/index.js';
import { loadConfig } from '../src/config.js';
import { openKeyBackend } from '../src/keys/index.js';
import { parseTimeStampResponse } from '../src/pki/index.js';
import { DEFAULT_TSA_POLICY, TimeStampAuthority } from '../src/tsa/index.js';
import { run, softHsmMissing, softHsmToken, tempDir } from '../test/support/env.js';
import { type LoadResult, percentile, warmThenMeasure } from './ab.js';
import { kysoCli, startKyso, writeIn } from './kyso-server.js';

/** One row: a rate, and its ratios to raw signing rates. */
export interface TsaRow {
  target: string;
  result: LoadResult;
  /** To the raw rates, by name: `oneThread` and `pool` for the soft key, `pkcs11` for SoftHSM2. */
  ratios: Record<string, number>;
}

export interface TsaResults {
  soft: TsaRow[];
  /** Undefined, with `softHsmSkipped` saying why, when SoftHSM2 is not installed. */
  softHsm?: TsaRow[];
  softHsmSkipped?: string;
}

const SECONDS = 5;
const IN_FLIGHT = 16;
const TSA_OPTIONS = { policy: DEFAULT_TSA_POLICY, acceptedPolicies: [], accuracySeconds: 1 };

/**
 * RFC 3161 tokens per second from Kyso's TSA with an ECDSA P-256 key, in-process and over HTTP,
 * beside the raw rate of signing with such a key: node:crypto in both its forms for a soft key,
 * PKCS#11 for a key on a SoftHSM2 token.
 */
export async function tsaBench(): Promise<TsaResults> {
  const tmp = tempDir('kyso-bench-tsa-');
  try {
    const tsq = timeStampQuery(tmp.dir);
    const raw = await rawSoftSign();
    const soft = await inProcess(path.join(tmp.dir, 'soft'), readFileSync(tsq), {});
    const http = await overHttp(path.join(tmp.dir, 'http'), tsq);
    const results: TsaResults = {
      soft: rowsOf(
        [
          ['raw `crypto.sign`, one thread (sync form)', raw.sync],
          [`raw \`crypto.sign\`, ${IN_FLIGHT} in flight (callback form: thread pool)`, raw.async],
          ['Kyso TSA in-process, `stamp()` one at a time', soft.alone],
          [`Kyso TSA in-process, \`stamp()\` ${IN_FLIGHT} in flight`, soft.loaded],
          ['Kyso TSA over HTTP (`kyso serve`, `ab -k -c 8`)', http],
        ],
        { oneThread: raw.sync.perSecond, pool: raw.async.perSecond },
      ),
    };
    const missing = softHsmMissing();
    if (missing) return { ...results, softHsmSkipped: `${missing} (Debian: apt-get install softhsm2)` };
    const token = softHsmToken('kyso-bench');
    try {
      const rawP11 = await rawPkcs11Sign(token);
      const tsa = await inProcess(path.join(tmp.dir, 'pkcs11'), readFileSync(tsq), {
        KYSO_KEY_BACKEND: 'pkcs11',
        KYSO_PKCS11_MODULE: token.module,
        KYSO_PKCS11_TOKEN: token.label,
        KYSO_PKCS11_PIN: token.pin,
      });
      results.softHsm = rowsOf(
        [
          [`raw PKCS#11 signing (\`Signer.sign\`, ${IN_FLIGHT} in flight)`, rawP11],
          ['Kyso TSA in-process, `stamp()` one at a time', tsa.alone],
          [`Kyso TSA in-process, \`stamp()\` ${IN_FLIGHT} in flight`, tsa.loaded],
        ],
        { pkcs11: rawP11.perSecond },
      );
    } finally {
      token.remove();
    }
    return results;
  } finally {
    tmp.remove();
  }
}

/** Rows with each result's ratio to each reference rate. */
function rowsOf(list: [string, LoadResult][], references: Record<string, number>): TsaRow[] {
  return list.map(([target, result]) => ({
    target,
    result,
    ratios: Object.fromEntries(Object.entries(references).map(([k, rate]) => [k, result.perSecond / rate])),
  }));
}

/** The request every run sends: `openssl ts -query` for SHA-256, asking for the TSA certificate. */
function timeStampQuery(dir: string): string {
  const data = writeIn(dir, 'document.txt', 'Kyso time-stamp benchmark\n');
  const tsq = path.join(dir, 'req.tsq');
  const r = run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-no_nonce', '-out', tsq]);
  if (r.code !== 0) throw new Error(`openssl ts -query failed: ${r.stderr}`);
  return tsq;
}

/** ECDSA P-256 with node:crypto over data the size of a token's signed attributes, in both forms. */
async function rawSoftSign(): Promise<{ sync: LoadResult; async: LoadResult }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = randomBytes(250);
  const options = { key: privateKey, dsaEncoding: 'der' as const };
  const sync = await measure(async () => {
    cryptoSign('sha256', data, options);
  }, 1);
  const async = await measure(
    () =>
      new Promise<void>((resolve, reject) =>
        cryptoSign('sha256', data, options, (error) => (error ? reject(error) : resolve())),
      ),
    IN_FLIGHT,
  );
  return { sync, async };
}

/** ECDSA P-256 signatures by a key on the token, through Kyso's PKCS#11 signer: the device's rate. */
async function rawPkcs11Sign(token: { module: string; label: string; pin: string }): Promise<LoadResult> {
  const backend = await openKeyBackend({
    kind: 'pkcs11',
    module: token.module,
    tokenLabel: token.label,
    pin: token.pin,
  });
  try {
    const key = await backend.generateKey('bench-raw', 'ec-p256');
    const signer = await backend.signer(key.ref, 'ECDSA-SHA256');
    const data = randomBytes(250);
    return await measure(() => signer.sign(data), IN_FLIGHT);
  } finally {
    await backend.close();
  }
}

/**
 * `TimeStampAuthority.stamp()` on a CA made by the key ceremony in `dir`, with `env`'s key backend:
 * one call at a time (latency), then `IN_FLIGHT` (throughput).
 */
async function inProcess(
  dir: string,
  tsq: Uint8Array,
  env: NodeJS.ProcessEnv,
): Promise<{ alone: LoadResult; loaded: LoadResult }> {
  const config = loadConfig({
    dataDir: path.join(dir, 'data'),
    env: { KYSO_PUBLIC_URL: 'http://kyso.bench', ...env },
  });
  await runCeremony(config, defaultCeremony());
  const ca = await CertificateAuthority.open(config);
  try {
    const tsa = await TimeStampAuthority.open(ca, TSA_OPTIONS);
    if (!tsa) throw new Error('the key ceremony made no TSA');
    await tsa.ready();
    const first = await tsa.stamp(tsq);
    if (!first.granted || parseTimeStampResponse(first.der).status !== 0)
      throw new Error(`the TSA refused the benchmark's request: ${first.failure}`);
    const stamp = async () => {
      if (!(await tsa.stamp(tsq)).granted) throw new Error('a time-stamp was refused');
    };
    return { alone: await measure(stamp, 1), loaded: await measure(stamp, IN_FLIGHT) };
  } finally {
    await ca.close();
  }
}

/** `kyso serve` on a demo CA, one token checked with `openssl ts -verify`, then ab. */
async function overHttp(dir: string, tsq: string): Promise<LoadResult> {
  const dataDir = path.join(dir, 'data');
  const server = await startKyso(dataDir);
  try {
    const url = `${server.url}/tsa`;
    const res = await fetch(url, {
      method: 'POST',
      body: readFileSync(tsq),
      headers: { 'content-type': 'application/timestamp-query' },
    });
    const tsr = writeIn(dir, 'reply.tsr', new Uint8Array(await res.arrayBuffer()));
    const chain = writeIn(dir, 'chain.pem', kysoCli(['ca', 'chain', '--data', dataDir]));
    const verify = run('openssl', ['ts', '-verify', '-queryfile', tsq, '-in', tsr, '-CAfile', chain]);
    if (verify.code !== 0 || !/Verification: OK/.test(verify.stdout))
      throw new Error(`the TSA's token does not verify: ${verify.stdout}${verify.stderr}`);
    const r = warmThenMeasure(
      { url, body: tsq, contentType: 'application/timestamp-query', csv: path.join(dir, 'ab.csv') },
      SECONDS,
    );
    if (r.errors > 0)
      throw new Error(`TSA over HTTP: ${r.errors} of ${r.requests} requests failed:\n${r.report}`);
    return r;
  } finally {
    await server.stop();
  }
}

/**
 * Runs `op` with `inFlight` calls outstanding: one second to warm up, then `SECONDS` measured
 * (bounded in count too), timing every call.
 */
async function measure(op: () => Promise<unknown>, inFlight: number): Promise<LoadResult> {
  const runFor = async (seconds: number, maxCount: number) => {
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end && latencies.length < maxCount) {
          const t = performance.now();
          await op();
          latencies.push(performance.now() - t);
        }
      }),
    );
    return { latencies, seconds: (performance.now() - start) / 1000 };
  };
  await runFor(1, 1_000_000);
  const { latencies, seconds } = await runFor(SECONDS, 5_000_000);
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: 0,
  };
}
