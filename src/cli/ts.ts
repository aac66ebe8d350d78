import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  buildTimeStampRequest,
  formatName,
  type HashName,
  PkiError,
  parseCertificate,
  parseTimeStampResponse,
  parseTimeStampToken,
  verifyTimeStampToken,
} from '../pki/index.js';
import { parseArgs, runSubcommand } from './args.js';
import { writeFileAtomically } from './atomic-file.js';
import { UsageError } from './errors.js';
import { ClientError, certificateFile, fetchDer, httpUrl, readInput } from './ocsp.js';
import { type Io, printJson } from './output.js';

export const TS_HELP = `kyso ts COMMAND
  stamp FILE --out FILE.tsr [--url URL] [--hash sha256|sha384|sha512]   asks a TSA (default
      $KYSO_PUBLIC_URL/tsa) to time-stamp FILE's hash and writes its RFC 3161 reply
  verify FILE FILE.tsr [--ca FILE.pem]   checks a reply (or bare token) against FILE; with --ca (trusted root
      and intermediates, PEM) also that the TSA certificate chains to them
Exit status: 0 done or valid, 1 failed or invalid, 3 usage error, 4 the TSA cannot be reached.`;

const HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512'];
const MAX_REPLY_BYTES = 4 * 1024 * 1024;
const VIETNAM_OFFSET_MS = 7 * 3600_000;

/** `kyso ts …`: the time-stamp client. */
export async function tsCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('ts', TS_HELP, { stamp, verify }, args, io);
}

/** A time-stamp that does not hold: exit 1 with the reason. */
function invalid(reason: string): ClientError {
  return new ClientError('ts-invalid', `invalid time-stamp: ${reason}`);
}

/** Hashes a file as it streams, so large documents are never held in memory. */
async function hashFile(file: string, hash: HashName): Promise<Uint8Array> {
  const h = createHash(hash);
  try {
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return Uint8Array.from(h.digest());
}

/**
 * Asks the TSA at url to time-stamp an imprint and checks its reply: granted, over this imprint and
 * nonce, and a token that verifies. Returns the whole reply (DER), its token and what the token says.
 */
export async function requestTimeStamp(url: string, imprint: Uint8Array, hash: HashName, timeoutMs?: number) {
  const nonce = randomNonce();
  const request = buildTimeStampRequest({
    hashAlgorithm: hash,
    messageImprint: imprint,
    nonce,
    certReq: true,
  });
  const der = await fetchDer(
    url,
    { accept: 'application/timestamp-reply', body: request, contentType: 'application/timestamp-query' },
    MAX_REPLY_BYTES,
    timeoutMs,
  );
  const reply = parseTimeStampResponse(der);
  // 0 granted, 1 grantedWithMods; anything else carries no usable token.
  if (reply.status > 1 || !reply.token || !reply.info)
    throw new ClientError(
      'ts-refused',
      `the TSA refused (PKIStatus ${reply.status}${reply.failInfo ? `, ${reply.failInfo}` : ''})${reply.statusText ? `: ${reply.statusText}` : ''}`,
    );
  const { info, token } = reply;
  if (info.hashAlgorithm !== hash || !sameBytes(info.messageImprint, imprint))
    throw new ClientError('ts-mismatch', 'the TSA time-stamped another hash than the one sent');
  if (!sameBytes(info.nonce, nonce))
    throw new ClientError('ts-nonce', "the reply's nonce is not the request's");
  const checked = verifyTimeStampToken(token, { messageImprint: imprint });
  if (!checked.ok) throw new ClientError('ts-invalid', `the TSA's token does not verify: ${checked.reason}`);
  return { der, token, info };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return !!a && Buffer.compare(a, b) === 0;
}

/** genTime as ISO 8601 in UTC and in Vietnam time (UTC+7, no daylight saving). */
function times(genTime: Date): { utc: string; vietnam: string } {
  return {
    utc: genTime.toISOString(),
    vietnam: new Date(genTime.getTime() + VIETNAM_OFFSET_MS).toISOString().replace('Z', '+07:00'),
  };
}

/** A positive, minimal INTEGER's contents: 64 random bits under a non-zero first byte below 0x80. */
function randomNonce(): Uint8Array {
  const nonce = Uint8Array.from(randomBytes(8));
  nonce[0] = (nonce[0] & 0x7f) | 0x01;
  return nonce;
}

function defaultUrl(): string {
  const base = process.env.KYSO_PUBLIC_URL?.replace(/\/+$/, '');
  return base ? `${base}/tsa` : 'http://127.0.0.1:8080/tsa';
}

async function stamp(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { url: { type: 'string' }, hash: { type: 'string' }, out: { type: 'string' } },
    { min: 1, max: 1, usage: 'kyso ts stamp FILE --out FILE.tsr [--url URL] [--hash sha256|sha384|sha512]' },
  );
  if (!values.out) throw new UsageError('kyso ts stamp needs --out FILE.tsr');
  const hash = (values.hash ?? 'sha256') as HashName;
  if (!HASHES.includes(hash))
    throw new UsageError(`--hash must be sha256, sha384 or sha512, got "${values.hash}"`);
  const url = httpUrl(values.url ?? defaultUrl(), values.url ? '--url' : 'KYSO_PUBLIC_URL');
  const file = positionals[0];
  const digest = await hashFile(file, hash);
  const { der, info } = await requestTimeStamp(url, digest, hash);
  writeFileAtomically(values.out, [der]);
  const t = times(info.genTime);
  if (values.json)
    printJson(io, {
      genTime: t.utc,
      genTimeVietnam: t.vietnam,
      serial: info.serialHex,
      policy: info.policy,
      hashAlgorithm: hash,
      out: values.out,
    });
  else
    io.out(
      [
        `Đã đóng dấu thời gian / Time-stamped: ${file} → ${values.out}`,
        `Thời điểm / Time: ${t.utc} (giờ Việt Nam / Vietnam time ${t.vietnam})`,
        `Số hiệu / Serial: ${info.serialHex}`,
        '',
      ].join('\n'),
    );
  return 0;
}

/** The token in a file: a TimeStampResp's, or the file itself when it is a bare token. */
function tokenIn(der: Uint8Array): Uint8Array {
  let reply: ReturnType<typeof parseTimeStampResponse>;
  try {
    reply = parseTimeStampResponse(der);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    try {
      parseTimeStampToken(der);
    } catch (inner) {
      if (inner instanceof PkiError) throw invalid('the file is neither a time-stamp reply nor a token');
      throw inner;
    }
    return der;
  }
  if (reply.status > 1 || !reply.token)
    throw invalid(`the reply is a refusal (PKIStatus ${reply.status}), not a time-stamp`);
  return reply.token;
}

/** Why a certificate does not chain to a root in the trusted bundle at a time, or undefined when it does. */
function chainProblem(leaf: Uint8Array, bundle: Uint8Array[], at: Date): string | undefined {
  const pool = bundle.map((der) => new X509Certificate(der));
  const name = (c: X509Certificate) => c.subject.split('\n').join(', ');
  const validAt = (c: X509Certificate) =>
    new Date(c.validFrom).getTime() <= at.getTime() && at.getTime() <= new Date(c.validTo).getTime();
  let current = new X509Certificate(leaf);
  // Each step moves to a different bundle certificate, so the walk ends.
  for (let depth = 0; depth <= pool.length; depth++) {
    const child = current;
    const issuer = pool.find((c) => c.ca && child.checkIssued(c) && child.verify(c.publicKey));
    if (!issuer) return `the TSA certificate does not chain to --ca: no issuer of ${name(child)} in it`;
    if (!validAt(issuer)) return `${name(issuer)} was not valid at the time-stamp's genTime`;
    if (issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey)) return undefined;
    current = issuer;
  }
  return 'the TSA certificate chain does not reach a root in --ca';
}

async function verify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { ca: { type: 'string' } },
    { min: 2, max: 2, usage: 'kyso ts verify FILE FILE.tsr [--ca FILE.pem] [--json]' },
  );
  const [file, tsrFile] = positionals;
  const tsr = readInput(tsrFile, 'time-stamp reply');
  const bundle = values.ca ? certificateFile(values.ca, 'CA bundle') : undefined;
  const token = tokenIn(tsr);
  const info = parseTimeStampToken(token);
  const hash = info.hashAlgorithm as HashName;
  if (!HASHES.includes(hash)) throw invalid(`unsupported hash algorithm ${info.hashAlgorithm}`);
  const digest = await hashFile(file, hash);
  if (!sameBytes(info.messageImprint, digest))
    throw invalid(`${file} is not the time-stamped data: its ${hash} hash differs from the token's`);
  const checked = verifyTimeStampToken(token, { messageImprint: digest, certificates: bundle });
  if (!checked.ok || !checked.signerCertificate)
    throw invalid(checked.reason ?? 'the signature does not verify');
  if (bundle) {
    const problem = chainProblem(checked.signerCertificate, bundle, info.genTime);
    if (problem) throw invalid(problem);
  }
  const t = times(info.genTime);
  const tsa = formatName(parseCertificate(checked.signerCertificate).subject);
  if (values.json) {
    printJson(io, {
      valid: true,
      genTime: t.utc,
      genTimeVietnam: t.vietnam,
      serial: info.serialHex,
      policy: info.policy,
      hashAlgorithm: hash,
      tsa,
      chainChecked: !!bundle,
    });
    return 0;
  }
  io.out(
    [
      `Hợp lệ / Valid: ${file}`,
      `Thời điểm / Time: ${t.utc} (giờ Việt Nam / Vietnam time ${t.vietnam})`,
      `Số hiệu / Serial: ${info.serialHex}`,
      `Chính sách / Policy: ${info.policy}`,
      `TSA: ${tsa}`,
      `Chuỗi chứng thư / Chain: ${bundle ? `đã kiểm tra / checked against ${values.ca}` : 'chưa kiểm tra / not checked (no --ca)'}`,
      '',
    ].join('\n'),
  );
  return 0;
}
