import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { minimalPdf } from '../test/pdf/fixtures.js';
import { longArray, manyRevisions, nestedParentheses, pdfWith } from '../test/pdf/hostile.js';
import { makeKey, makePki } from '../test/pdf/pki.js';
import { ROOT, tempDir } from '../test/support/env.js';

// Hostile files (issue 8 §4): verify (and for the large values, sign) each in its own plain Node.js
// process on the built dist/ (bench/pdf-child.mjs), for its peak resident memory; `pdfsig -nocert` on
// the same file in the same run as the peer.

export interface HostileRow {
  input: string;
  bytes: number;
  op: 'sign' | 'verify';
  ms: number;
  peakMiB: number;
  /** What Kyso made of the file: the verdicts, or the error it refused it with. */
  outcome: string;
  /** `pdfsig -nocert` wall time on the same file, and what it said. */
  pdfsigMs?: number;
  pdfsigOutcome?: string;
}

interface ChildResult {
  ms: number;
  peakMiB: number;
  verdicts: string[];
  error?: string;
}

function child(op: 'sign' | 'verify', dir: string, input: string, output?: string): ChildResult {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bench/pdf-child.mjs'), op, dir, input, '1', ...(output ? [output] : [])],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  // A refused file: the error's first line (a PdfError's message) instead of figures.
  if (r.status !== 0) {
    const line = r.stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? r.stderr.trim().split('\n')[0];
    return { ms: Number.NaN, peakMiB: Number.NaN, verdicts: [], error: line?.trim() };
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function pdfsig(file: string): { ms: number; outcome: string } {
  const start = performance.now();
  const r = spawnSync('pdfsig', ['-nocert', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - start;
  const valid = r.stdout.match(/Signature Validation: Signature is Valid/g)?.length ?? 0;
  const total = r.stdout.match(/^Signature #/gm)?.length ?? 0;
  return { ms, outcome: total ? `${valid} of ${total} valid` : `exit ${r.status}, no signature read` };
}

/** The verification rows for files of 10 to 10,000 revisions and for the hostile shapes. */
export async function hostileBench(): Promise<HostileRow[]> {
  const tmp = tempDir('kyso-bench-hostile-');
  try {
    const dir = tmp.dir;
    const file = (name: string) => path.join(dir, name);
    const pki = await makePki();
    const key = makeKey('ec');
    writeFileSync(file('signer.key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(file('signer.spki.der'), key.spki);
    writeFileSync(file('signer.der'), await pki.leaf(key, 'Kyso Bench Signer'));
    writeFileSync(file('issuing.der'), pki.issuing);
    writeFileSync(file('root.der'), pki.root);

    const rows: HostileRow[] = [];
    /** Runs op on a file already written; returns the signed file when op is sign and it succeeded. */
    const measure = (label: string, input: string, op: 'sign' | 'verify') => {
      const out = op === 'sign' ? `${input}.signed.pdf` : undefined;
      const r = child(op, dir, input, out);
      const peer = pdfsig(out && !r.error ? out : input);
      rows.push({
        input: label,
        bytes: statSync(input).size,
        op,
        ms: r.ms,
        peakMiB: r.peakMiB,
        outcome: r.error ? `refused: ${r.error}` : summary(op, r.verdicts),
        pdfsigMs: peer.ms,
        pdfsigOutcome: peer.outcome,
      });
      return r.error ? undefined : out;
    };
    const write = (name: string, bytes: Uint8Array) => {
      writeFileSync(file(name), bytes);
      return file(name);
    };

    child('sign', dir, write('base.pdf', minimalPdf({ pages: 1 })), file('signed.pdf'));
    const signed = new Uint8Array(readFileSync(file('signed.pdf')));
    // A file of n revisions: the unsigned original, the signature, and n − 2 tiny updates.
    for (const n of [10, 100, 1_000, 10_000])
      measure(
        `${n.toLocaleString('en-US')} revisions`,
        write(`revisions-${n}.pdf`, manyRevisions(signed, n - 2)),
        'verify',
      );
    const parentheses = measure(
      '4,000,000 nested parentheses',
      write('parentheses.pdf', pdfWith(nestedParentheses(4_000_000))),
      'sign',
    );
    if (parentheses) measure('the same, signed', parentheses, 'verify');
    measure('array of 10,000,000 numbers', write('array.pdf', pdfWith(longArray(10_000_000))), 'sign');
    const dicts = Buffer.concat([Buffer.from('['), Buffer.alloc(4_000_000 * 4, '<<>>'), Buffer.from(']')]);
    measure('array of 4,000,000 empty dictionaries', write('dicts.pdf', pdfWith(dicts)), 'sign');
    return rows;
  } finally {
    tmp.remove();
  }
}

function summary(op: 'sign' | 'verify', verdicts: string[]): string {
  if (op === 'sign') return 'signed';
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} × ${v}`).join('; ');
}
