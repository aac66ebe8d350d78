import os from 'node:os';
import { crlBench } from './crl.js';
import { issuanceBench } from './issuance.js';
import { ocspBench } from './ocsp.js';
import { pdfBench } from './pdf.js';
import { searchBench } from './search.js';
import { type TsaRow, tsaBench } from './tsa.js';

// `npm run bench [issuance] [crl] [ocsp] [search] [tsa] [pdf]`: each benchmark runs its peer in the same run; the lines are
// Markdown, ready for docs/benchmarks.md.
const only = new Set(process.argv.slice(2));
const want = (name: string) => only.size === 0 || only.has(name);
const f = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

console.log(
  `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}\n`,
);

if (want('issuance')) {
  console.log(
    '| issuance (ECDSA P-256 soft key) | certificates | seconds | certificates/s | raw crypto.sign/s (same run) | ratio |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const db of ['sqlite', 'postgres'] as const) {
    const r = await issuanceBench(db, db === 'sqlite' ? 20_000 : 10_000);
    console.log(
      `| ${db} | ${f(r.certificates)} | ${f(r.seconds, 2)} | ${f(r.perSecond)} | ${f(r.rawSignPerSecond)} | ${f(r.ratio * 100, 1)} % |`,
    );
  }
  console.log('');
}

if (want('crl')) {
  console.log(
    '| full CRL, 1,000,000 revoked (ECDSA P-256) | seconds | peak RSS MiB | CRL bytes | `openssl ca -gencrl` seconds (same run) |',
  );
  console.log('|---|---|---|---|---|');
  for (const db of ['sqlite', 'postgres'] as const) {
    const r = await crlBench(db, 1_000_000);
    console.log(
      `| ${db} | ${f(r.seconds, 2)} | ${f(r.peakMiB)} | ${f(r.bytes)} | ${f(r.opensslSeconds, 2)} |`,
    );
  }
  console.log('');
}

if (want('ocsp')) {
  console.log(
    '| OCSP over loopback, ECDSA P-256 (`ab -k -c 8`, POST) | requests | requests/s | p50 ms | p99 ms | of bare Node.js |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of await ocspBench()) {
    if (!r.result) {
      console.log(`| ${r.target} | skipped: ${r.skipped} | | | | |`);
      continue;
    }
    console.log(
      `| ${r.target} | ${f(r.result.requests)} | ${f(r.result.perSecond)} | ${f(r.result.p50Ms, 2)} | ${f(r.result.p99Ms, 2)} | ${f(r.ratio! * 100, 1)} % |`,
    );
  }
  console.log('');
}

if (want('search')) {
  const r = await searchBench(100_000);
  console.log(
    `| OCSP on SQLite with ${f(r.certificates)} certificates (8 keep-alive clients, POST) | requests | requests/s | p50 ms | p99 ms |`,
  );
  console.log('|---|---|---|---|---|');
  for (const [label, x] of [
    ['alone (same run)', r.alone],
    [`with ${r.searchers} clients searching without pause`, r.underSearch],
  ] as const)
    console.log(`| ${label} | ${f(x.requests)} | ${f(x.perSecond)} | ${f(x.p50Ms, 2)} | ${f(x.p99Ms, 2)} |`);
  console.log(
    `\nSearches answered meanwhile: ${f(r.searches.requests)} (${r.searches.failures} failed), p99 ${f(r.searches.p99Ms, 1)} ms.\n`,
  );
}

if (want('tsa')) {
  const tsa = await tsaBench();
  const row = (r: TsaRow, ratios: string[]) =>
    `| ${r.target} | ${f(r.result.requests)} | ${f(r.result.perSecond)} | ${f(r.result.p50Ms, 2)} | ${f(r.result.p99Ms, 2)} | ${ratios.map((k) => `${f(r.ratios[k] * 100, 1)} %`).join(' | ')} |`;
  console.log(
    '| time-stamps, soft ECDSA P-256 key (RFC 3161, SHA-256, certReq) | tokens | tokens/s | p50 ms | p99 ms | of `crypto.sign`, one thread | of `crypto.sign`, thread pool |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of tsa.soft) console.log(row(r, ['oneThread', 'pool']));
  console.log('');
  console.log(
    '| time-stamps, SoftHSM2 ECDSA P-256 key | tokens | tokens/s | p50 ms | p99 ms | of raw PKCS#11 signing |',
  );
  console.log('|---|---|---|---|---|---|');
  if (tsa.softHsm) for (const r of tsa.softHsm) console.log(row(r, ['pkcs11']));
  else console.log(`| skipped: ${tsa.softHsmSkipped} | | | | | |`);
  console.log('');
}

if (want('pdf')) {
  console.log(
    '| input | size MB | sign ms | sign peak MiB (process floor) | verify ms | verify peak MiB | pdfsig ms (same run) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  const rows = await pdfBench();
  for (const r of rows) {
    console.log(
      `| ${r.input} | ${f(r.inputBytes / 1e6, 2)} | ${f(r.signMs, 1)} | ${f(r.signPeakMiB)} (${f(r.signStartMiB)}) | ${f(r.verifyMs, 1)} | ${f(r.verifyPeakMiB)} | ${f(r.pdfsigMs, 1)} |`,
    );
  }
  console.log('');
  console.log(
    `Size is of the file signed; verify and \`pdfsig -nocert\` run on the signed output. Times are medians of ` +
      `${rows.map((r) => r.runs).join(', ')} runs; peak is \`process.resourceUsage().maxRSS\` of a child process ` +
      `that does only that operation, plain Node.js on the built dist/ (runtime included; the floor in brackets). Verdicts: ` +
      `${rows.map((r) => `${r.verdicts.length} × ${[...new Set(r.verdicts)].join('/')}`).join('; ')}.`,
  );
  console.log('');
}
