import { issuanceBench } from './issuance.js';

// `npm run bench [name…]`: runs the benchmarks with their peers in the same run and prints the figures.
const only = new Set(process.argv.slice(2));
const want = (name: string) => only.size === 0 || only.has(name);

const rows: string[] = [];
if (want('issuance')) {
  for (const db of ['sqlite', 'postgres'] as const) {
    const r = await issuanceBench(db, db === 'sqlite' ? 20_000 : 10_000);
    rows.push(
      `issuance ${db}: ${r.certificates} certificates in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(0)}/s; raw crypto.sign ECDSA P-256 ${r.rawSignPerSecond.toFixed(0)}/s; ratio ${(r.ratio * 100).toFixed(1)} %`,
    );
    console.log(rows.at(-1));
  }
}
