import type { HashName, SignatureAlgorithm } from './algorithms.js';
import { parseCertificate, type SignFunction } from './certificate.js';
import {
  boundedChildren,
  CMS_OID,
  type DerTree,
  encodeTree,
  hashNameOf,
  type ParsedSignedData,
  parseSignedData,
  signedDataTree,
  signingCertificateV2,
  verifySigner,
} from './cms.js';
import {
  asciiString,
  bitString,
  bytesOf,
  contentOf,
  DER_NULL,
  DER_TRUE,
  decodeDer,
  expectTag,
  explicit,
  implicit,
  integer,
  octetString,
  oid,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  readSmallInt,
  readString,
  readTime,
  sequence,
  TAG,
  type Tlv,
  tlv,
  utf8String,
} from './der.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';
import { serialContent, serialToHex } from './serial.js';

// RFC 3161 time-stamp requests, responses and tokens, with RFC 5816 ESSCertIDv2 in the token.

/** A time-stamp request as the TSA needs it. */
export interface TimeStampRequest {
  /** 'sha256', 'sha384' or 'sha512'; the dotted OID for any other hash, or for one with odd parameters. */
  hashAlgorithm: HashName | string;
  messageImprint: Uint8Array;
  policy?: string;
  /** INTEGER contents, echoed as they came. */
  nonce?: Uint8Array;
  certReq: boolean;
  hasExtensions: boolean;
  /** The MessageImprint DER as received, so the token echoes it byte for byte (set by the parser). */
  messageImprintDer?: Uint8Array;
}

/** PKIFailureInfo values a TSA answers with. */
export type PkiFailure =
  | 'badAlg'
  | 'badRequest'
  | 'badDataFormat'
  | 'timeNotAvailable'
  | 'unacceptedPolicy'
  | 'unacceptedExtension'
  | 'addInfoNotAvailable'
  | 'systemFailure';

/** What the TSA decides for one token; buildTimeStampToken encodes and signs it. */
export interface TimeStampTokenInput {
  request: TimeStampRequest;
  policy: string;
  serial: Uint8Array;
  genTime: Date;
  accuracy?: { seconds?: number; millis?: number; micros?: number };
  ordering?: boolean;
  /** A GeneralName DER naming the TSA. */
  tsaName?: Uint8Array;
  tsaCertificate: Uint8Array;
  chain?: Uint8Array[];
  signatureAlgorithm: SignatureAlgorithm;
  sign: SignFunction;
}

/** The fields of a TSTInfo a client checks. */
export interface TimeStampInfo {
  policy: string;
  hashAlgorithm: string;
  messageImprint: Uint8Array;
  serialHex: string;
  genTime: Date;
  nonce?: Uint8Array;
  accuracyMillis?: number;
}

/** A TimeStampResp read back. */
export interface ParsedTimeStampResponse {
  status: number;
  failInfo?: PkiFailure;
  statusText?: string;
  token?: Uint8Array;
  info?: TimeStampInfo;
}

const FAILURE_BITS: Record<PkiFailure, number> = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
};

const VERSION_1 = integer(1);
const HASH_BYTES: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };
const HASH_OIDS: Record<HashName, string> = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

function malformed(message: string): never {
  throw new PkiError('malformed-der', message);
}

function badInput(message: string): never {
  throw new PkiError('bad-ts-input', message);
}

/** Runs a parser and gives its DER- and CMS-level failures one TSP code. */
function withTspCode<T>(code: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof PkiError && (e.code === 'malformed-der' || e.code === 'malformed-cms'))
      throw new PkiError(code, `${what}: ${e.message}`);
    throw e;
  }
}

const knownHash = (name: string): HashName | undefined =>
  Object.hasOwn(HASH_BYTES, name) ? (name as HashName) : undefined;

// ---------------------------------------------------------------- requests

/** Reads a MessageImprint; a SHA-2 hash is named only with absent or NULL parameters, as RFC 5754 allows. */
function readMessageImprint(buf: Uint8Array, t: Tlv | undefined) {
  const [algT, hashT, extra] = boundedChildren(
    buf,
    expectTag(t, TAG.sequence, 'MessageImprint'),
    'imprint',
    3,
  );
  if (extra) malformed('MessageImprint: unexpected fields');
  const [idT, paramsT, more] = boundedChildren(buf, expectTag(algT, TAG.sequence, 'hashAlgorithm'), 'alg', 3);
  if (more) malformed('hashAlgorithm: unexpected fields');
  const dotted = readOid(contentOf(buf, expectTag(idT, TAG.oid, 'hashAlgorithm')));
  const plain = !paramsT || (paramsT.tag === TAG.null && paramsT.end === paramsT.body);
  const name = plain ? hashNameOf(dotted) : undefined;
  const imprint = contentOf(buf, expectTag(hashT, TAG.octetString, 'hashedMessage'));
  if (name && imprint.length !== HASH_BYTES[name]) malformed(`hashedMessage is not a ${name} digest`);
  return { hashAlgorithm: name ?? dotted, messageImprint: imprint, der: bytesOf(buf, t!) };
}

/** Reads INTEGER contents, checking the encoding is minimal. */
function readIntegerContent(buf: Uint8Array, t: Tlv): Uint8Array {
  const content = contentOf(buf, t);
  readInteger(content);
  return content;
}

/** Parses a TimeStampReq (bounded: 64 KiB by default); PkiError('malformed-ts-request') if it is not one. */
export function parseTimeStampRequest(der: Uint8Array, maxBytes = MAX_REQUEST_BYTES): TimeStampRequest {
  return withTspCode('malformed-ts-request', 'TimeStampReq', () => {
    const top = decodeDer(der, maxBytes);
    const f = boundedChildren(der, expectTag(top, TAG.sequence, 'TimeStampReq'), 'TimeStampReq', 6);
    let i = 0;
    if (readSmallInt(contentOf(der, expectTag(f[i++], TAG.integer, 'version'))) !== 1)
      malformed('unknown TimeStampReq version');
    const imprint = readMessageImprint(der, f[i++]);
    const request: TimeStampRequest = {
      hashAlgorithm: imprint.hashAlgorithm,
      messageImprint: imprint.messageImprint,
      certReq: false,
      hasExtensions: false,
      messageImprintDer: imprint.der,
    };
    if (f[i]?.tag === TAG.oid) request.policy = readOid(contentOf(der, f[i++]));
    if (f[i]?.tag === TAG.integer) request.nonce = readIntegerContent(der, f[i++]);
    // DER omits certReq FALSE; clients that write it anyway still mean false.
    if (f[i]?.tag === TAG.boolean) request.certReq = readBoolean(contentOf(der, f[i++]));
    if (f[i]?.tag === 0xa0) {
      for (const e of boundedChildren(der, f[i++], 'extensions', 64)) expectTag(e, TAG.sequence, 'Extension');
      request.hasExtensions = true;
    }
    if (i !== f.length) malformed('TimeStampReq: unexpected fields');
    return request;
  });
}

/** A MessageImprint with NULL hash parameters, as OpenSSL writes it. */
function encodeMessageImprint(hash: HashName, imprint: Uint8Array): Uint8Array {
  if (imprint.length !== HASH_BYTES[hash]) badInput(`message imprint is not a ${hash} digest`);
  return sequence(sequence(oid(HASH_OIDS[hash]), DER_NULL), octetString(imprint));
}

/** Checks nonce bytes are minimal INTEGER contents. */
function checkNonce(nonce: Uint8Array): Uint8Array {
  try {
    readInteger(nonce);
  } catch {
    badInput('nonce must be minimal INTEGER contents');
  }
  return nonce;
}

/** Builds a TimeStampReq for a client (Kyso's CLI). */
export function buildTimeStampRequest(data: {
  hashAlgorithm: HashName;
  messageImprint: Uint8Array;
  nonce?: Uint8Array;
  certReq?: boolean;
  policy?: string;
}): Uint8Array {
  if (!knownHash(data.hashAlgorithm)) badInput(`unsupported hash ${data.hashAlgorithm}`);
  const fields = [VERSION_1, encodeMessageImprint(data.hashAlgorithm, data.messageImprint)];
  if (data.policy !== undefined) fields.push(oid(data.policy));
  if (data.nonce !== undefined) fields.push(tlv(TAG.integer, checkNonce(data.nonce)));
  if (data.certReq) fields.push(DER_TRUE);
  return sequence(...fields);
}

// ---------------------------------------------------------------- responses

/** PKIFailureInfo as a DER named-bit BIT STRING: trailing zero bits dropped. */
function failInfoBits(bit: number): Uint8Array {
  const bytes = new Uint8Array((bit >> 3) + 1);
  bytes[bit >> 3] = 0x80 >> (bit & 7);
  return bitString(bytes, 7 - (bit & 7));
}

const rejections = new Map<PkiFailure, Uint8Array>();

/** A TimeStampResp rejecting a request (cached without statusText: callers must not modify it). */
export function timeStampRejection(failure: PkiFailure, statusText?: string): Uint8Array {
  const bit = Object.hasOwn(FAILURE_BITS, failure)
    ? FAILURE_BITS[failure]
    : badInput(`unknown failure ${failure}`);
  const cached = statusText === undefined ? rejections.get(failure) : undefined;
  if (cached) return cached;
  const info = [integer(2)];
  if (statusText !== undefined) info.push(sequence(utf8String(statusText)));
  info.push(failInfoBits(bit));
  const der = sequence(sequence(...info));
  if (statusText === undefined) rejections.set(failure, der);
  return der;
}

/** Writes a GeneralizedTime, with milliseconds (trailing zeros dropped, RFC 3161 §2.4.2) when asked. */
function generalizedTime(ms: number, fraction: boolean): Uint8Array {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 0 || year > 9999) badInput('genTime cannot be encoded');
  const two = (n: number) => String(n).padStart(2, '0');
  let text =
    String(year).padStart(4, '0') +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds());
  const millis = d.getUTCMilliseconds();
  if (fraction && millis) text += `.${String(millis).padStart(3, '0').replace(/0+$/, '')}`;
  return asciiString(TAG.generalizedTime, `${text}Z`);
}

/** Encodes Accuracy; zero fields are left out, as RFC 3161 reads missing ones as zero. */
function encodeAccuracy(a: NonNullable<TimeStampTokenInput['accuracy']>): Uint8Array {
  const { seconds = 0, millis = 0, micros = 0 } = a;
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    badInput('accuracy seconds must be a non-negative integer');
  for (const v of [millis, micros])
    if (!Number.isInteger(v) || v < 0 || v > 999) badInput('accuracy millis and micros must be 0..999');
  if (seconds + millis + micros === 0) badInput('accuracy must be positive');
  const fields: Uint8Array[] = [];
  if (seconds) fields.push(integer(seconds));
  // Small INTEGERs have a two-byte header; [0] and [1] are implicit (RFC 3161 is an IMPLICIT TAGS module).
  if (millis) fields.push(implicit(0, integer(millis).subarray(2)));
  if (micros) fields.push(implicit(1, integer(micros).subarray(2)));
  return sequence(...fields);
}

/** The request's MessageImprint DER when it still says what the request says, else a fresh encoding. */
function echoedImprint(request: TimeStampRequest, hash: HashName): Uint8Array {
  const fresh = encodeMessageImprint(hash, request.messageImprint);
  const der = request.messageImprintDer;
  if (!der) return fresh;
  const same = withTspCode('bad-ts-input', 'messageImprintDer', () => {
    const echoed = readMessageImprint(der, decodeDer(der, der.length));
    return echoed.hashAlgorithm === hash && Buffer.from(echoed.messageImprint).equals(request.messageImprint);
  });
  return same ? der : fresh;
}

/** Encodes the TSTInfo, refusing what the TSA should have rejected instead. */
function encodeTstInfo(input: TimeStampTokenInput): Uint8Array {
  const { request } = input;
  const hash = knownHash(request.hashAlgorithm);
  if (!hash) badInput(`unsupported hash ${request.hashAlgorithm}: answer badAlg`);
  if (request.hasExtensions) badInput('request extensions are not supported: answer unacceptedExtension');
  if (request.policy !== undefined && request.policy !== input.policy)
    badInput(`request asks for policy ${request.policy}: answer unacceptedPolicy`);
  const imprint = echoedImprint(request, hash);
  const subSecond = input.accuracy !== undefined && !input.accuracy.seconds;
  const ms = input.genTime.getTime();
  const fields = [
    VERSION_1,
    oid(input.policy),
    imprint,
    tlv(TAG.integer, serialContent(input.serial)),
    // Whole seconds, truncated as a clock reads, unless the accuracy is finer than a second.
    generalizedTime(subSecond ? ms : Math.floor(ms / 1000) * 1000, subSecond),
  ];
  if (input.accuracy) fields.push(encodeAccuracy(input.accuracy));
  if (input.ordering) fields.push(DER_TRUE);
  if (request.nonce) fields.push(tlv(TAG.integer, checkNonce(request.nonce)));
  if (input.tsaName) fields.push(explicit(0, checkGeneralName(input.tsaName)));
  return sequence(...fields);
}

/** Checks bytes are one context-tagged element, as a GeneralName is. */
function checkGeneralName(der: Uint8Array): Uint8Array {
  const t = withTspCode('bad-ts-input', 'tsaName', () => decodeDer(der, 16 * 1024));
  if ((t.tag & 0xc0) !== 0x80) badInput('tsaName is not a GeneralName');
  return der;
}

/** Builds and signs a time-stamp token: ContentInfo(SignedData(TSTInfo)) with signingCertificateV2. */
export async function buildTimeStampToken(input: TimeStampTokenInput): Promise<Uint8Array> {
  return encodeTree(await tokenTree(input));
}

/** The token as a tree, so a response wraps it without another copy. */
async function tokenTree(input: TimeStampTokenInput): Promise<DerTree> {
  return signedDataTree({
    contentType: CMS_OID.tstInfo,
    content: encodeTstInfo(input),
    signedAttributes: [signingCertificateV2(input.tsaCertificate)],
    certificates: input.request.certReq ? [input.tsaCertificate, ...(input.chain ?? [])] : undefined,
    signer: {
      certificate: input.tsaCertificate,
      signatureAlgorithm: input.signatureAlgorithm,
      sign: input.sign,
    },
  });
}

const GRANTED = sequence(integer(0));

/** Builds a TimeStampResp granting the request, with its token. */
export async function buildTimeStampResponse(input: TimeStampTokenInput): Promise<Uint8Array> {
  return encodeTree({ tag: TAG.sequence, parts: [GRANTED, await tokenTree(input)] });
}

// ---------------------------------------------------------------- reading responses and tokens

/** Reads a GeneralizedTime keeping milliseconds, which readTime drops. */
function readGenTime(buf: Uint8Array, t: Tlv | undefined): Date {
  const date = readTime(buf, expectTag(t, TAG.generalizedTime, 'genTime'));
  const fraction = /\.(\d+)Z$/.exec(Buffer.from(contentOf(buf, t!)).toString('latin1'));
  if (fraction) date.setUTCMilliseconds(Number(fraction[1].slice(0, 3).padEnd(3, '0')));
  return date;
}

/** Reads Accuracy into milliseconds. */
function readAccuracy(buf: Uint8Array, t: Tlv): number {
  let total = 0;
  for (const f of boundedChildren(buf, t, 'Accuracy', 3)) {
    const v = readSmallInt(contentOf(buf, f));
    if (f.tag === TAG.integer) total += v * 1000;
    else if ((f.tag === 0x80 || f.tag === 0x81) && v >= 1 && v <= 999) total += f.tag === 0x80 ? v : v / 1000;
    else malformed('bad Accuracy');
  }
  return total;
}

/** Reads a TSTInfo DER. */
function readTstInfo(der: Uint8Array): TimeStampInfo {
  const f = boundedChildren(
    der,
    expectTag(decodeDer(der, der.length), TAG.sequence, 'TSTInfo'),
    'TSTInfo',
    10,
  );
  let i = 0;
  if (readSmallInt(contentOf(der, expectTag(f[i++], TAG.integer, 'version'))) !== 1)
    malformed('unknown TSTInfo version');
  const policy = readOid(contentOf(der, expectTag(f[i++], TAG.oid, 'policy')));
  const imprint = readMessageImprint(der, f[i++]);
  const serial = readIntegerContent(der, expectTag(f[i++], TAG.integer, 'serialNumber'));
  const info: TimeStampInfo = {
    policy,
    hashAlgorithm: imprint.hashAlgorithm,
    messageImprint: imprint.messageImprint,
    serialHex: serialToHex(serial),
    genTime: readGenTime(der, f[i++]),
  };
  if (f[i]?.tag === TAG.sequence) info.accuracyMillis = readAccuracy(der, f[i++]);
  if (f[i]?.tag === TAG.boolean) readBoolean(contentOf(der, f[i++]));
  if (f[i]?.tag === TAG.integer) info.nonce = readIntegerContent(der, f[i++]);
  if (f[i]?.tag === 0xa0) i++;
  if (f[i]?.tag === 0xa1) i++;
  if (i !== f.length) malformed('TSTInfo: unexpected fields');
  return info;
}

/** Reads a token's SignedData and TSTInfo; throws with code malformed-der or malformed-cms. */
function readToken(token: Uint8Array): { info: TimeStampInfo; signedData: ParsedSignedData } {
  const signedData = parseSignedData(token, MAX_RESPONSE_BYTES);
  if (signedData.contentType !== CMS_OID.tstInfo) malformed('token does not hold a TSTInfo');
  if (!signedData.content) malformed('token without its TSTInfo');
  return { info: readTstInfo(signedData.content), signedData };
}

/** Parses a time-stamp token's SignedData and TSTInfo; PkiError('malformed-ts-token') if it is not one. */
export function parseTimeStampToken(token: Uint8Array): TimeStampInfo & { signedData: ParsedSignedData } {
  return withTspCode('malformed-ts-token', 'TimeStampToken', () => {
    const { info, signedData } = readToken(token);
    return { ...info, signedData };
  });
}

/** The first failure bit set that Kyso names. */
function readFailInfo(content: Uint8Array): PkiFailure | undefined {
  const { bytes } = readBitString(content);
  const entries = Object.entries(FAILURE_BITS) as [PkiFailure, number][];
  return entries.find(([, bit]) => (bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7)))?.[0];
}

/** Parses a TimeStampResp and the token it holds; PkiError('malformed-ts-response') if it is not one. */
export function parseTimeStampResponse(der: Uint8Array): ParsedTimeStampResponse {
  return withTspCode('malformed-ts-response', 'TimeStampResp', () => {
    const top = decodeDer(der, MAX_RESPONSE_BYTES);
    const [statusT, tokenT, extra] = boundedChildren(
      der,
      expectTag(top, TAG.sequence, 'TimeStampResp'),
      'resp',
      3,
    );
    if (extra) malformed('TimeStampResp: unexpected fields');
    const f = boundedChildren(der, expectTag(statusT, TAG.sequence, 'PKIStatusInfo'), 'PKIStatusInfo', 3);
    let i = 0;
    const out: ParsedTimeStampResponse = {
      status: readSmallInt(contentOf(der, expectTag(f[i++], TAG.integer, 'status'))),
    };
    if (out.status > 5) malformed(`unknown PKIStatus ${out.status}`);
    if (f[i]?.tag === TAG.sequence)
      out.statusText = boundedChildren(der, f[i++], 'PKIFreeText', 16)
        .map((s) => readString(der, expectTag(s, TAG.utf8String, 'PKIFreeText')))
        .join('\n');
    if (f[i]?.tag === TAG.bitString) out.failInfo = readFailInfo(contentOf(der, f[i++]));
    if (i !== f.length) malformed('PKIStatusInfo: unexpected fields');
    if (tokenT) {
      out.token = bytesOf(der, tokenT);
      out.info = readToken(out.token).info;
    } else if (out.status <= 1) malformed('granted without a token');
    return out;
  });
}

// ---------------------------------------------------------------- verification

/** Why a certificate cannot sign time-stamp tokens (RFC 3161 §2.3), or undefined when it can. */
export function tsaCertificateProblem(cert: Uint8Array): string | undefined {
  const { extensions } = parseCertificate(cert);
  const eku = extensions.find((e) => e.oid === OID.extKeyUsage);
  if (!eku?.critical) return 'TSA certificate needs a critical extendedKeyUsage';
  const purposes = withTspCode('malformed-certificate', 'extendedKeyUsage', () =>
    boundedChildren(eku.value, expectTag(decodeDer(eku.value, eku.value.length), TAG.sequence, 'EKU'), 'EKU'),
  );
  if (purposes.length !== 1 || !Buffer.from(bytesOf(eku.value, purposes[0])).equals(oid(OID.ekuTimeStamping)))
    return 'TSA certificate must have id-kp-timeStamping as its only extended key usage';
  const ku = extensions.find((e) => e.oid === OID.keyUsage);
  if (ku) {
    const { bytes } = withTspCode('malformed-certificate', 'keyUsage', () =>
      readBitString(contentOf(ku.value, expectTag(decodeDer(ku.value, 16), TAG.bitString, 'keyUsage'))),
    );
    // Only digitalSignature and nonRepudiation suit a TSA key.
    if (bytes.some((b, n) => (n === 0 ? b & 0x3f : b)))
      return 'TSA certificate key usage allows more than signatures';
  }
  return undefined;
}

/**
 * Verifies a token: the TSTInfo digest, the ESS signing-certificate attribute and the signature against
 * the signer certificate (embedded, or among options.certificates), its TSA usage and validity at genTime,
 * and the imprint when given. Chain building is the caller's job.
 */
export function verifyTimeStampToken(
  token: Uint8Array,
  options: { messageImprint?: Uint8Array; certificates?: Uint8Array[] },
): { ok: boolean; reason?: string; signerCertificate?: Uint8Array; genTime?: Date } {
  let parsed: ReturnType<typeof parseTimeStampToken>;
  try {
    parsed = parseTimeStampToken(token);
  } catch (e) {
    if (e instanceof PkiError) return { ok: false, reason: e.message };
    throw e;
  }
  const { signedData, genTime } = parsed;
  if (signedData.signers.length !== 1) return { ok: false, reason: 'a token has exactly one signer' };
  const [signer] = signedData.signers;
  if (![CMS_OID.signingCertificateV2, CMS_OID.signingCertificate].some((a) => signer.attributes.has(a)))
    return { ok: false, reason: 'signing-certificate attribute missing' };
  const checked = verifySigner(signedData, signer, { certificates: options.certificates });
  if (!checked.ok || !checked.signerCertificate) return { ...checked, genTime };
  const { signerCertificate } = checked;
  const fail = (reason: string) => ({ ok: false, reason, signerCertificate, genTime });
  const problem = tsaCertificateProblem(signerCertificate);
  if (problem) return fail(problem);
  const { notBefore, notAfter } = parseCertificate(signerCertificate);
  if (genTime < notBefore || genTime > notAfter)
    return fail('genTime is outside the TSA certificate validity');
  if (options.messageImprint && !Buffer.from(options.messageImprint).equals(parsed.messageImprint))
    return fail('message imprint does not match');
  return { ok: true, signerCertificate, genTime };
}
