import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { opensslCsr } from '../test/support/ca.js';
import { ROOT, run, tempDir, toolMissing } from '../test/support/env.js';
import { abArgs, freePort, type LoadResult, parseAb, WARM_UP, warmThenMeasure } from './ab.js';
import { type ChildServer, kysoCli, startChild, startKyso, writeIn } from './kyso-server.js';

/** One OCSP responder under load, or why it was not measured. */
export interface OcspTargetResult {
  target: string;
  result?: LoadResult;
  /** Requests per second against the bare Node.js server's. */
  ratio?: number;
  skipped?: string;
}

const SECONDS = 8;
const OCSP_REQUEST = 'application/ocsp-request';

/**
 * Nonce-less OCSP requests for one good certificate, POSTed by `ab -k -c 8` over loopback, to Kyso
 * (`kyso serve`, pre-signed cache), `openssl ocsp`, `cfssl ocspserve` and a bare Node.js server
 * (the HTTP ceiling). Every responder signs with ECDSA P-256.
 */
export async function ocspBench(): Promise<OcspTargetResult[]> {
  const tmp = tempDir('kyso-bench-ocsp-');
  try {
    // The bare server reads and ignores the body: a request-sized one will do.
    const bare = await measureServer(
      tmp.dir,
      'bare',
      (port) =>
        startChild(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'bench/bare-http.ts'), String(port)],
          `http://127.0.0.1:${port}/`,
          { cwd: ROOT },
        ),
      writeIn(tmp.dir, 'bare.der', new Uint8Array(83)),
    );
    const noCfssl = cfsslMissing();
    const results: OcspTargetResult[] = [
      { target: 'Kyso (`kyso serve`, pre-signed)', result: await kysoOcsp(tmp.dir) },
      // It answers HTTP/1.0 and closes each connection, whatever ab asks.
      { target: '`openssl ocsp` (one process, no keep-alive)', result: opensslOcsp(tmp.dir) },
      noCfssl
        ? { target: '`cfssl ocspserve`', skipped: noCfssl }
        : { target: '`cfssl ocspserve`', result: await cfsslOcsp(tmp.dir) },
      { target: 'bare Node.js `http`, fixed 500-byte body (ceiling)', result: bare },
    ];
    for (const r of results) if (r.result) r.ratio = r.result.perSecond / bare.perSecond;
    return results;
  } finally {
    tmp.remove();
  }
}

/** Starts a server on a free port, loads it with POSTs of `body`, stops it. */
async function measureServer(
  dir: string,
  name: string,
  start: (port: number) => Promise<ChildServer>,
  body: string,
): Promise<LoadResult> {
  const server = await start(await freePort());
  try {
    const csv = path.join(dir, `${name}.csv`);
    return checked(
      name,
      warmThenMeasure({ url: `${server.url}/`, body, contentType: OCSP_REQUEST, csv }, SECONDS),
    );
  } finally {
    await server.stop();
  }
}

/** Kyso: a demo CA made by `kyso serve`, one certificate issued by the CLI, its cached answer. */
async function kysoOcsp(dir: string): Promise<LoadResult> {
  const work = path.join(dir, 'kyso');
  mkdirSync(work);
  const dataDir = path.join(work, 'data');
  const server = await startKyso(dataDir);
  try {
    const csr = opensslCsr(dir, 'leaf', 'ec-p256', '/C=VN/O=Bench/CN=OCSP Bench Subscriber').csr;
    const leaf = path.join(work, 'leaf.pem');
    kysoCli(['cert', 'issue', '--data', dataDir, '--csr', csr, '--profile', 'individual', '--out', leaf]);
    const chain = kysoCli(['ca', 'chain', '--data', dataDir]);
    const issuing = writeIn(
      work,
      'issuing.pem',
      chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26),
    );
    const caFile = writeIn(work, 'chain.pem', chain);
    const req = path.join(work, 'req.der');
    openssl(['ocsp', '-issuer', issuing, '-cert', leaf, '-no_nonce', '-reqout', req]);
    checkGood('Kyso', issuing, leaf, caFile, `${server.url}/ocsp`);
    return checked(
      'Kyso',
      warmThenMeasure(
        { url: `${server.url}/ocsp`, body: req, contentType: OCSP_REQUEST, csv: path.join(dir, 'kyso.csv') },
        SECONDS,
      ),
    );
  } finally {
    await server.stop();
  }
}

/** A peer CA made with openssl: CA, delegated OCSP responder and one certificate, all ECDSA P-256. */
function peerPki(dir: string): { ca: string; responder: string; responderKey: string; leaf: string } {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
    'req',
    '-x509',
    '-new',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-subj',
    '/C=VN/CN=Peer CA',
    '-days',
    '30',
    '-out',
    f('ca.pem'),
  ]);
  openssl([
    'req',
    '-new',
    ...ec,
    '-keyout',
    f('ocsp.key'),
    '-subj',
    '/C=VN/CN=Peer OCSP',
    '-out',
    f('ocsp.csr'),
  ]);
  writeIn(
    dir,
    'ocsp.ext',
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    f('ocsp.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    '0x1001',
    '-days',
    '30',
    '-extfile',
    f('ocsp.ext'),
    '-out',
    f('ocsp.pem'),
  ]);
  openssl([
    'req',
    '-new',
    ...ec,
    '-keyout',
    f('leaf.key'),
    '-subj',
    '/C=VN/CN=Peer Leaf',
    '-out',
    f('leaf.csr'),
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    f('leaf.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${LEAF_SERIAL}`,
    '-days',
    '30',
    '-out',
    f('leaf.pem'),
  ]);
  writeIn(dir, 'index.txt', `V\t301231000000Z\t\t${LEAF_SERIAL}\tunknown\t/C=VN/CN=Peer Leaf\n`);
  openssl(['ocsp', '-issuer', f('ca.pem'), '-cert', f('leaf.pem'), '-no_nonce', '-reqout', f('req.der')]);
  return { ca: f('ca.pem'), responder: f('ocsp.pem'), responderKey: f('ocsp.key'), leaf: f('leaf.pem') };
}

const LEAF_SERIAL = '2F59D5F8219978F7FDCB2190776AA513';

/**
 * `openssl ocsp` as a responder, in a network namespace of its own (`unshare -rn`, loopback only),
 * with ab in the same namespace: one script does both, warm-up then a run sized from it.
 */
function opensslOcsp(dir: string): LoadResult {
  const work = path.join(dir, 'openssl');
  mkdirSync(work);
  const pki = peerPki(work);
  const port = 8888;
  const url = `http://127.0.0.1:${port}/`;
  const csv = path.join(work, 'ab.csv');
  const load = { url, body: path.join(work, 'req.der'), contentType: OCSP_REQUEST, csv };
  const warm = abArgs({ ...load, ...WARM_UP }).map(quote);
  // The measured run's count comes from the warm-up's rate, in the shell.
  const measure = abArgs({ ...load, count: 1, seconds: SECONDS * 2 }).map(quote);
  measure[measure.indexOf('-n') + 1] = '"$count"';
  const script = [
    'set -e',
    'ip link set lo up',
    // -nrequest bounds the responder too; timeout bounds it in time.
    `timeout 120 openssl ocsp -index ${quote(path.join(work, 'index.txt'))} -port ${port} -rsigner ${quote(pki.responder)} -rkey ${quote(pki.responderKey)} -CA ${quote(pki.ca)} -nrequest 5000000 >/dev/null 2>&1 &`,
    'responder=$!',
    `for i in $(seq 100); do ss -ltn | grep -q ':${port} ' && break; sleep 0.1; done`,
    `openssl ocsp -issuer ${quote(pki.ca)} -cert ${quote(pki.leaf)} -no_nonce -url ${url} -CAfile ${quote(pki.ca)} 2>&1 | grep -q ': good'`,
    `${warm.join(' ')} > ${quote(path.join(work, 'warm.txt'))}`,
    `count=$(awk '/^Requests per second/ { n = int($4 * ${SECONDS}); print (n < 5000 ? 5000 : n > 2000000 ? 2000000 : n) }' ${quote(path.join(work, 'warm.txt'))})`,
    measure.join(' '),
    'kill $responder',
  ].join('\n');
  // -r adds a user namespace, so that this works without root too.
  const r = spawnSync('unshare', ['-r', '-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0)
    throw new Error(`openssl ocsp run failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return checked('openssl ocsp', parseAb(r.stdout, csv));
}

function cfsslMissing(): string | undefined {
  const missing = toolMissing('cfssl');
  return missing && `${missing} (Debian: apt-get install golang-cfssl)`;
}

/** `cfssl ocspserve` answering from a response signed beforehand by `cfssl ocspsign`. */
async function cfsslOcsp(dir: string): Promise<LoadResult> {
  const work = path.join(dir, 'cfssl');
  mkdirSync(work);
  const pki = peerPki(work);
  const signed = run('cfssl', [
    'ocspsign',
    '-ca',
    pki.ca,
    '-responder',
    pki.responder,
    '-responder-key',
    pki.responderKey,
    '-cert',
    pki.leaf,
    '-status',
    'good',
  ]);
  if (signed.code !== 0) throw new Error(`cfssl ocspsign failed: ${signed.stderr}`);
  const responses = writeIn(work, 'responses.txt', `${JSON.parse(signed.stdout).ocspResponse}\n`);
  return measureServer(
    dir,
    'cfssl',
    async (port) => {
      const server = await startChild(
        'cfssl',
        ['ocspserve', '-address', '127.0.0.1', '-port', String(port), '-responses', responses],
        `http://127.0.0.1:${port}/`,
      );
      checkGood('cfssl', pki.ca, pki.leaf, pki.ca, `${server.url}/`);
      return server;
    },
    path.join(work, 'req.der'),
  );
}

/** One request with the openssl client first: the load must be of real, verified answers. */
function checkGood(name: string, issuer: string, cert: string, caFile: string, url: string): void {
  const r = run('openssl', [
    'ocsp',
    '-issuer',
    issuer,
    '-cert',
    cert,
    '-no_nonce',
    '-url',
    url,
    '-CAfile',
    caFile,
  ]);
  if (r.code !== 0 || !/: good/.test(r.stdout) || !/Response verify OK/.test(r.stderr + r.stdout))
    throw new Error(`${name}: the OCSP answer did not verify as good: ${r.stdout}${r.stderr}`);
}

function checked(name: string, r: LoadResult): LoadResult {
  if (r.errors > 0)
    throw new Error(`${name}: ${r.errors} of ${r.requests} requests failed under load:\n${r.report}`);
  return r;
}

function openssl(args: string[]): void {
  const r = run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
