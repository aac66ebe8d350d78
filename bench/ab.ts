import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

/** What one load run measured: throughput and latency as the load generator saw them. */
export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed connections or reads, and answers other than 2xx: any makes the figures void. */
  errors: number;
  /** ab's report, for the error message when there were errors. */
  report?: string;
}

/** A load run with ApacheBench: POSTs of one file, keep-alive, `concurrency` connections. */
export interface AbRun {
  url: string;
  body: string;
  contentType: string;
  /** ab stops after this many requests or `seconds`, whichever comes first. */
  count: number;
  seconds: number;
  concurrency?: number;
  /** Where ab writes its percentile table (CSV, 0.001 ms resolution unlike its text table). */
  csv: string;
}

/** The ab command line for a run; only loopback targets are allowed. */
export function abArgs(r: AbRun): string[] {
  const host = new URL(r.url).hostname;
  if (host !== '127.0.0.1') throw new Error(`load runs go to 127.0.0.1 only, not ${host}`);
  // -t before -n: ab's -t resets the count to 50,000, a later -n sets it again.
  return [
    'ab',
    '-l',
    '-k',
    '-q',
    '-r',
    '-c',
    String(r.concurrency ?? 8),
    '-t',
    String(r.seconds),
    '-n',
    String(r.count),
    '-e',
    r.csv,
    '-p',
    r.body,
    '-T',
    r.contentType,
    r.url,
  ];
}

/** Runs ab and reads its report; throws when ab fails or overruns its time bound. */
export function ab(r: AbRun): LoadResult {
  const [cmd, ...args] = abArgs(r);
  const out = spawnSync(cmd, args, { encoding: 'utf8', timeout: (r.seconds + 30) * 1000 });
  if (out.status !== 0)
    throw new Error(`ab failed (${out.status ?? out.signal}): ${out.stderr || out.stdout}`);
  return parseAb(out.stdout, r.csv);
}

/** Reads ab's text report and the percentile CSV it wrote (then removes the CSV). */
export function parseAb(report: string, csv: string): LoadResult {
  const field = (label: string) => {
    const m = new RegExp(`^${label}:\\s+([0-9.]+)`, 'm').exec(report);
    if (!m) throw new Error(`no "${label}" in ab's report:\n${report}`);
    return Number(m[1]);
  };
  const optional = (label: string) => (new RegExp(`^${label}:`, 'm').test(report) ? field(label) : 0);
  const percentiles = new Map<number, number>();
  for (const line of readFileSync(csv, 'utf8').split('\n').slice(1)) {
    const [p, ms] = line.split(',');
    if (ms !== undefined) percentiles.set(Number(p), Number(ms));
  }
  rmSync(csv, { force: true });
  return {
    requests: field('Complete requests'),
    seconds: field('Time taken for tests'),
    perSecond: field('Requests per second'),
    p50Ms: percentiles.get(50) ?? Number.NaN,
    p99Ms: percentiles.get(99) ?? Number.NaN,
    errors: field('Failed requests') + optional('Non-2xx responses'),
    report,
  };
}

/**
 * The warm-up: enough for the JIT and caches to settle and to tell the rate. Runs end by count, the
 * time is only a bound: one cut short by time leaves connections that sent nothing, on which
 * `openssl ocsp` then spins.
 */
export const WARM_UP = { count: 30_000, seconds: 15 };

/**
 * A warm-up run (JIT, caches, connections), then one sized to last about `seconds` at the rate
 * the warm-up saw, bounded in time by twice that.
 */
export function warmThenMeasure(r: Omit<AbRun, 'count' | 'seconds'>, seconds = 8): LoadResult {
  const warm = ab({ ...r, ...WARM_UP });
  return ab({ ...r, count: measuredCount(warm.perSecond, seconds), seconds: seconds * 2 });
}

/** Requests for a run of about `seconds` at `perSecond`, within sane bounds. */
export function measuredCount(perSecond: number, seconds: number): number {
  return Math.min(2_000_000, Math.max(5_000, Math.round(perSecond * seconds)));
}

/** A free TCP port on the loopback interface, for a server that must be told its port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The p-th percentile (0–100) of ascending numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
