import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildOcspRequest,
  formatName,
  fromPem,
  ocspResponderCertificate,
  type ParsedCertificate,
  type ParsedOcspResponse,
  PkiError,
  parseCertificate,
  parseOcspResponse,
  singleResponseFor,
  verifySignature,
} from '../pki/index.js';
import { parseArgs, runSubcommand } from './args.js';
import { describeError, EXIT, UsageError } from './errors.js';
import { type Io, printJson } from './output.js';

export const OCSP_HELP = `kyso ocsp check CERT [--issuer FILE] [--url URL] [--no-nonce] [--get] [--json]
  asks an OCSP responder about CERT (PEM or DER) and checks the signed answer. The issuer certificate
  comes from --issuer or CERT's AIA caIssuers URL, the responder from --url or CERT's AIA OCSP URL;
  --get sends the request in the URL (cacheable) instead of a POST, --no-nonce leaves the nonce out.
  Exit status: 0 good, 1 revoked (or on hold), 2 unknown, 3 usage error, 4 cannot check (network
  error, refused, malformed or badly signed answer, or one out of date).`;

const TIMEOUT_MS = 10_000;
// Clocks of client and responder differ; RFC 5019 §4 asks clients to allow for it.
const SKEW_MS = 5 * 60_000;
const MAX_CERT_BYTES = 64 * 1024;
const MAX_OCSP_BYTES = 1024 * 1024;
// The shared exit statuses (src/cli/errors.ts): a status is a verdict, a failure to check is no answer.
const CANNOT_CHECK = EXIT.unavailable;
const STATUS_EXIT = { good: EXIT.ok, revoked: EXIT.failed, unknown: EXIT.indeterminate } as const;

/** A service that cannot be reached, or whose answer does not check out. */
export class ClientError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
  }
}

/** Reads a file named on the command line; an unreadable one is a usage error. */
export function readInput(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${file}`, { cause: e });
  }
}

/** The certificates in a file's bytes: every PEM CERTIFICATE block, or the bytes as one DER certificate. */
export function certificatesIn(bytes: Uint8Array): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  return text.includes('-----BEGIN ') ? fromPem(text, 'CERTIFICATE') : [bytes];
}

/** The certificates in a file named on the command line; a file without one is a usage error. */
export function certificateFile(file: string, what: string): Uint8Array[] {
  let certs: Uint8Array[];
  try {
    certs = certificatesIn(readInput(file, what));
  } catch (e) {
    // A key or a CRL named where certificates belong is the caller's mistake, whatever command reads it.
    if (!(e instanceof PkiError)) throw e;
    throw new UsageError(`${file} is not a readable ${what} (${e.message})`);
  }
  if (!certs.length) throw new UsageError(`${file} holds no certificate`);
  return certs;
}

/** Checks that a URL is http(s), so fetch never reads files or data: URLs. */
export function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${what} must be an http(s) URL, got "${value}"`);
  return url.toString();
}

/** GETs (or, with a body, POSTs) one DER object with a timeout (10 s by default) and a size limit; failures are ClientErrors. */
export async function fetchDer(
  url: string,
  request: { accept: string; body?: Uint8Array; contentType?: string },
  maxBytes: number,
  timeoutMs = TIMEOUT_MS,
): Promise<Uint8Array> {
  const headers: Record<string, string> = { accept: request.accept };
  if (request.contentType) headers['content-type'] = request.contentType;
  try {
    const res = await fetch(url, {
      method: request.body ? 'POST' : 'GET',
      headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new ClientError('http-status', `${url} answered HTTP ${res.status}`);
    }
    return await readBounded(res, url, maxBytes);
  } catch (e) {
    if (e instanceof ClientError) throw e;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError')
      throw new ClientError('timeout', `no answer from ${url} within ${timeoutMs / 1000} s`);
    throw new ClientError(
      'network',
      `cannot reach ${url}: ${err.cause?.code ?? err.cause?.message ?? err.message}`,
    );
  }
}

/** Reads a response body, stopping at maxBytes so a hostile server cannot fill the memory. */
async function readBounded(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ClientError('too-large', `${url} answered more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Uint8Array.from(Buffer.concat(chunks));
}

/** `kyso ocsp …`: the OCSP client. */
export async function ocspCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('ocsp', OCSP_HELP, { check }, args, io);
}

/** What a checked response says about the certificate. */
interface OcspResult {
  status: 'good' | 'revoked' | 'unknown';
  reason?: string;
  revokedAt?: string;
  thisUpdate: string;
  nextUpdate: string | null;
  responder: string;
  nonceChecked: boolean;
}

async function check(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      issuer: { type: 'string' },
      url: { type: 'string' },
      'no-nonce': { type: 'boolean' },
      get: { type: 'boolean' },
    },
    {
      min: 1,
      max: 1,
      usage: 'kyso ocsp check CERT [--issuer FILE] [--url URL] [--no-nonce] [--get] [--json]',
    },
  );
  const url = values.url === undefined ? undefined : httpUrl(values.url, '--url');
  const certBytes = readInput(positionals[0], 'certificate');
  const issuerBytes = values.issuer ? readInput(values.issuer, 'issuer certificate') : undefined;
  let result: OcspResult;
  try {
    result = await ask({ certBytes, issuerBytes, url, nonce: !values['no-nonce'], get: !!values.get });
  } catch (e) {
    // Exit 1 means revoked here, so every failure to check must leave with its own status.
    if (e instanceof UsageError) throw e;
    io.err(`kyso: ${describeError(e).line}\n`);
    if (process.env.KYSO_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    return CANNOT_CHECK;
  }
  if (values.json) printJson(io, result);
  else io.out(report(result));
  return STATUS_EXIT[result.status];
}

/** Sends the request and checks the answer. */
async function ask(opts: {
  certBytes: Uint8Array;
  issuerBytes?: Uint8Array;
  url?: string;
  nonce: boolean;
  get: boolean;
}): Promise<OcspResult> {
  const cert = parseCertificate(onlyCertificate(opts.certBytes, 'the certificate file'));
  const issuer = parseCertificate(
    opts.issuerBytes
      ? onlyCertificate(opts.issuerBytes, 'the issuer file')
      : await fetchIssuer(accessUrl(cert, 'CA Issuers')),
  );
  checkIssuedBy(cert, issuer);
  const aia = opts.url ? undefined : accessUrl(cert, 'OCSP');
  const url = opts.url ?? (aia && httpUrl(aia, 'the AIA OCSP URL'));
  if (!url) throw new UsageError('the certificate names no OCSP responder (AIA); give --url URL');
  const nonce = opts.nonce ? Uint8Array.from(randomBytes(16)) : undefined;
  const request = buildOcspRequest([{ issuer, serial: cert.serial }], { nonce });
  const accept = 'application/ocsp-response';
  const der = opts.get
    ? // RFC 6960 A.1: the base64 of the DER, URL-encoded, appended to the responder's path.
      await fetchDer(
        `${url.replace(/\/+$/, '')}/${encodeURIComponent(Buffer.from(request).toString('base64'))}`,
        { accept },
        MAX_OCSP_BYTES,
      )
    : await fetchDer(url, { accept, body: request, contentType: 'application/ocsp-request' }, MAX_OCSP_BYTES);
  return checkResponse(parseOcspResponse(der), { cert, issuer, nonce, now: Date.now() });
}

/** The one certificate in a file or download: a bundle is ambiguous. */
function onlyCertificate(bytes: Uint8Array, what: string, downloaded = false): Uint8Array {
  let certs: Uint8Array[];
  let message: string;
  try {
    certs = certificatesIn(bytes);
    if (certs.length === 1) return certs[0];
    message = `${what} holds ${certs.length} certificates, not one`;
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    message = `${what} is not a readable certificate (${e.message})`;
  }
  throw downloaded ? new ClientError('not-one-certificate', message) : new UsageError(message);
}

/** The first http(s) URL of an AIA access method, read by node:crypto. */
function accessUrl(cert: ParsedCertificate, method: 'OCSP' | 'CA Issuers'): string | undefined {
  const text = new X509Certificate(cert.der).infoAccess ?? '';
  for (const line of text.split('\n')) {
    const m = /^(OCSP|CA Issuers) - URI:(.*)$/.exec(line);
    if (!m || m[1] !== method) continue;
    // Node quotes a value holding unusual characters as a JSON string.
    const value: string = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    if (/^https?:\/\//i.test(value)) return value;
  }
  return undefined;
}

/** The issuer certificate from the AIA caIssuers URL, DER (RFC 5280 §4.2.2.1) or PEM. */
async function fetchIssuer(url: string | undefined): Promise<Uint8Array> {
  if (!url) throw new UsageError('the certificate names no issuer certificate URL (AIA); give --issuer FILE');
  const der = await fetchDer(
    url,
    { accept: 'application/pkix-cert, application/x-x509-ca-cert, */*' },
    MAX_CERT_BYTES,
  );
  return onlyCertificate(der, `the issuer certificate at ${url}`, true);
}

/** Checks the issuer really issued the certificate: else the answer would be about another one. */
function checkIssuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): void {
  if (
    !sameBytes(cert.issuerDer, issuer.subjectDer) ||
    !verifySignature(cert.signatureAlgorithm, issuer.publicKey, cert.tbs, cert.signature)
  )
    throw new ClientError(
      'wrong-issuer',
      `${formatName(issuer.subject)} did not issue the certificate ${cert.serialHex}`,
    );
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && Buffer.compare(a, b) === 0;
}

/** The certificate whose key signed the response: the issuer itself, or a responder it delegated to. */
function responderCertificate(
  r: ParsedOcspResponse,
  issuer: ParsedCertificate,
  now: number,
): ParsedCertificate {
  const found = ocspResponderCertificate(r, issuer, (der) => parseCertificate(der), new Date(now));
  if ('problem' in found) throw new ClientError('ocsp-responder', found.problem);
  return found.cert;
}

/** Checks a response's status, signature, CertID, nonce and times, and says what it states. */
function checkResponse(
  r: ParsedOcspResponse,
  q: { cert: ParsedCertificate; issuer: ParsedCertificate; nonce?: Uint8Array; now: number },
): OcspResult {
  if (r.status !== 'successful') throw new ClientError('ocsp-refused', `the responder answered ${r.status}`);
  // The signature first: nothing else in the response means anything before it verifies.
  const responder = responderCertificate(r, q.issuer, q.now);
  if (
    !r.tbs ||
    !r.signatureAlgorithm ||
    !r.signature ||
    !verifySignature(r.signatureAlgorithm, responder.publicKey, r.tbs, r.signature)
  )
    throw new ClientError(
      'ocsp-signature',
      `the response signature does not verify with ${formatName(responder.subject)}`,
    );
  const single = singleResponseFor(r, q.cert, q.issuer);
  if (!single)
    throw new ClientError('ocsp-mismatch', `the response does not answer for serial ${q.cert.serialHex}`);
  if (q.nonce && !sameBytes(r.nonce, q.nonce))
    throw new ClientError(
      'ocsp-nonce',
      r.nonce
        ? "the response's nonce is not the request's"
        : 'the responder did not echo the nonce (use --no-nonce for one that never does)',
    );
  if (single.thisUpdate.getTime() > q.now + SKEW_MS)
    throw new ClientError(
      'ocsp-time',
      `the response's thisUpdate ${single.thisUpdate.toISOString()} is in the future`,
    );
  if (single.nextUpdate && single.nextUpdate.getTime() < q.now - SKEW_MS)
    throw new ClientError(
      'ocsp-stale',
      `the response is stale: its nextUpdate ${single.nextUpdate.toISOString()} has passed`,
    );
  return {
    status: single.status,
    ...(single.reason ? { reason: single.reason } : {}),
    ...(single.revokedAt ? { revokedAt: single.revokedAt.toISOString() } : {}),
    thisUpdate: single.thisUpdate.toISOString(),
    nextUpdate: single.nextUpdate?.toISOString() ?? null,
    responder: formatName(responder.subject),
    nonceChecked: q.nonce !== undefined,
  };
}

const STATUS_VI = { good: 'còn hiệu lực', revoked: 'đã thu hồi', unknown: 'không xác định' } as const;

/** The result for people: Vietnamese first, then English. */
function report(r: OcspResult): string {
  return [
    `Trạng thái / Status: ${r.status} (${STATUS_VI[r.status]})`,
    ...(r.reason ? [`Lý do / Reason: ${r.reason}`] : []),
    ...(r.revokedAt ? [`Thu hồi lúc / Revoked at: ${r.revokedAt}`] : []),
    `Cập nhật lúc / This update: ${r.thisUpdate}`,
    `Cập nhật tiếp / Next update: ${r.nextUpdate ?? 'không có / none'}`,
    `Máy chủ trả lời / Responder: ${r.responder}`,
    `Nonce: ${r.nonceChecked ? 'đã kiểm tra / checked' : 'không gửi / not sent'}`,
    '',
  ].join('\n');
}
