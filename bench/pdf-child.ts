import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signPdf, verifyPdf } from '../src/pdf/index.js';
import { rawSign } from '../test/pdf/pki.js';

// Runs one operation (sign or verify) over one file in its own process, so that its peak resident memory is
// that operation's alone. Usage: pdf-child.ts sign|verify <pki dir> <input> <runs> [<output>]
const [op, dir, input, runsArg, output] = process.argv.slice(2);
const runs = Number(runsArg);
const der = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const times: number[] = [];
let signatures = 0;
let verdicts: string[] = [];

if (op === 'sign') {
  const privateKey = createPrivateKey(readFileSync(path.join(dir, 'signer.key.pem')));
  const options = {
    signer: {
      algorithm: 'ECDSA-SHA256' as const,
      publicKey: der('signer.spki.der'),
      sign: async (data: Uint8Array) => rawSign(privateKey, 'ECDSA-SHA256', data),
    },
    certificate: der('signer.der'),
    chain: [der('issuing.der')],
  };
  let signed: Uint8Array | undefined;
  for (let i = 0; i < runs; i++) {
    const pdf = new Uint8Array(readFileSync(input));
    const start = performance.now();
    signed = await signPdf(pdf, options);
    times.push(performance.now() - start);
  }
  if (output && signed) writeFileSync(output, signed);
} else if (op === 'verify') {
  const trustAnchors = [der('root.der')];
  for (let i = 0; i < runs; i++) {
    const pdf = new Uint8Array(readFileSync(input));
    const start = performance.now();
    const report = await verifyPdf(pdf, { trustAnchors });
    times.push(performance.now() - start);
    signatures = report.signatures.length;
    verdicts = report.signatures.map(
      (s) => `${s.verdict}${s.reasons.length ? ` (${s.reasons.join(', ')})` : ''}, chain ${s.chain.status}`,
    );
  }
} else {
  throw new Error(`unknown operation ${op}`);
}

times.sort((a, b) => a - b);
const ms = times[Math.floor(times.length / 2)];
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ ms, peakMiB, signatures, verdicts }));
