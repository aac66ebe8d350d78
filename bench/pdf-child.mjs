import { createPrivateKey, sign } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { readPdfFile } from '../dist/cli/pdf-file.js';
import { signPdfRevision, verifyPdf } from '../dist/pdf/index.js';

// Runs one operation (sign or verify) over one file in its own plain Node.js process (the built dist/, as
// `kyso pdf` runs it, without tsx's own memory), so that its peak resident memory is that operation's.
// Usage: node pdf-child.mjs sign|verify <pki dir> <input> <runs> [<output>]
const [op, dir, input, runsArg, output] = process.argv.slice(2);
const runs = Number(runsArg);
// The process before it reads anything: Node.js and the loaded modules, the floor under every peak.
const startMiB = process.memoryUsage().rss / 2 ** 20;
const der = (name) => new Uint8Array(readFileSync(path.join(dir, name)));
const times = [];
let signatures = 0;
let verdicts = [];
/** Why verification refused the file, when it did. */
let error;

if (op === 'sign') {
  const privateKey = createPrivateKey(readFileSync(path.join(dir, 'signer.key.pem')));
  const options = {
    signer: {
      algorithm: 'ECDSA-SHA256',
      publicKey: der('signer.spki.der'),
      sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
    },
    certificate: der('signer.der'),
    chain: [der('issuing.der')],
  };
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    // What `kyso pdf sign` does: a large file's structure only (the middle of big streams left unread),
    // the new revision alone, then the file and the revision written out.
    const file = readPdfFile(input, { sparse: true });
    const revision = await signPdfRevision(file.bytes, {
      ...options,
      original: file.sparse ? file.chunks : undefined,
    });
    if (output) {
      const fd = openSync(output, 'w');
      for (const chunk of file.chunks()) writeSync(fd, chunk);
      writeSync(fd, revision);
      closeSync(fd);
    }
    times.push(performance.now() - start);
  }
} else if (op === 'verify') {
  const trustAnchors = [der('root.der')];
  for (let i = 0; i < runs; i++) {
    const pdf = readFileSync(input);
    const start = performance.now();
    const report = await verifyPdf(pdf, { trustAnchors });
    times.push(performance.now() - start);
    signatures = report.signatures.length;
    error = report.error ? `${report.error.code}: ${report.error.message}` : undefined;
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
console.log(JSON.stringify({ ms, peakMiB, startMiB, signatures, verdicts, error }));
