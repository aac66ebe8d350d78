import { CertificateAuthority, issueCrl } from '../src/ca/index.js';
import { loadConfig } from '../src/config.js';

// Runs in its own process so that its peak resident memory is the CRL's alone.
const config = loadConfig({ dataDir: process.argv[2] });
const ca = await CertificateAuthority.open(config);
await ca.caSigner(await ca.defaultCaId());
const start = performance.now();
const crl = await issueCrl(ca, { actor: 'bench' });
const seconds = (performance.now() - start) / 1000;
await ca.close();
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ entries: crl.entries, seconds, peakMiB, bytes: crl.der.length }));
