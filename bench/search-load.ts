// Child process of bench/search.ts: `workers` concurrent clients over keep-alive until `seconds`
// pass, either POSTing one OCSP request (`ocsp FILE`) or searching the repository (`search`).
// Prints the count, failures, rate and latency percentiles as JSON.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { percentile } from './ab.js';

const [mode, url, workers, seconds, file] = [
  process.argv[2],
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
  process.argv[6],
];
const QUERIES = ['nguyen', 'tran thi', 'le van b', 'pham', 'hoang minh', 'vu', 'dang thi d', 'bui'];
const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
const body = mode === 'ocsp' ? readFileSync(file) : undefined;

function once(i: number): Promise<number> {
  const target =
    mode === 'ocsp'
      ? `${url}/ocsp`
      : `${url}/repository/certificates?q=${encodeURIComponent(QUERIES[i % QUERIES.length])}&limit=50`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        agent,
        method: body ? 'POST' : 'GET',
        headers: body ? { 'content-type': 'application/ocsp-request', 'content-length': body.length } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const started = performance.now();
const ends = Date.now() + seconds * 1000;
const latencies: number[] = [];
let failures = 0;
await Promise.all(
  Array.from({ length: workers }, async (_, w) => {
    for (let i = w; Date.now() < ends; i += workers) {
      const t = performance.now();
      const status = await once(i).catch(() => 0);
      if (status !== 200) failures++;
      latencies.push(performance.now() - t);
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
agent.destroy();
console.log(
  JSON.stringify({
    requests: latencies.length,
    failures,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  }),
);
