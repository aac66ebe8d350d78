import { createHash } from 'node:crypto';
import { readSpki, type SignatureAlgorithm, signatureAlgorithmIdentifier } from './algorithms.js';
import type { ParsedCertificate, SignFunction } from './certificate.js';
import {
  bytesOf,
  children,
  contentOf,
  DER_NULL,
  decodeDer,
  expectTag,
  explicit,
  octetString,
  oid,
  readBitString,
  readBoolean,
  readOid,
  readSmallInt,
  readTime,
  readTlv,
  sequence,
  TAG,
  type Tlv,
  tlv,
  tlvOf,
  tlvSize,
  writeHeader,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import { OID } from './oids.js';
import { REVOCATION_REASON_CODES, type RevocationReason, reasonFromCode } from './revocation.js';
import { serialToHex } from './serial.js';

// OCSP (RFC 6960) with the RFC 5019 lightweight profile and RFC 9654 nonces (which obsoletes RFC 8954
// and raises the nonce limit from 32 to 128 octets). Parsed values are views into the input.

const OCSP_OID = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  acceptableResponses: '1.3.6.1.5.5.7.48.1.4',
  sha1: '1.3.14.3.2.26',
} as const;

/** Hash algorithms a CertID may use. */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const CERT_ID_HASHES: { name: CertIdHash; oid: Uint8Array; size: number }[] = [
  { name: 'sha1', oid: oid(OCSP_OID.sha1), size: 20 },
  { name: 'sha256', oid: oid(OID.sha256), size: 32 },
  { name: 'sha384', oid: oid(OID.sha384), size: 48 },
  { name: 'sha512', oid: oid(OID.sha512), size: 64 },
];
// AlgorithmIdentifier with NULL parameters, as OpenSSL writes it in CertIDs.
const CERT_ID_ALGORITHMS = new Map(CERT_ID_HASHES.map((h) => [h.name, sequence(h.oid, DER_NULL)]));

const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_MAX_CERT_IDS = 50;
// RFC 9654 §2.1: a nonce has 1 to 128 octets; longer ones are refused with malformedRequest.
const MAX_NONCE_BYTES = 128;

/** One CertID: which certificate a request asks about, or a response answers for. */
export interface OcspCertId {
  hashAlgorithm: CertIdHash;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** INTEGER content bytes, as parseCertificate gives them. */
  serial: Uint8Array;
  /** Uppercase hex, as serialToHex gives it. */
  serialHex: string;
  /** The CertID's exact DER, echoed unchanged in the response. */
  der: Uint8Array;
}

/** What an OCSP request asks. */
export interface OcspRequest {
  certIds: OcspCertId[];
  /** The nonce OCTET STRING's content. */
  nonce?: Uint8Array;
  /** Whether a requestor signature is present (it is neither required nor checked). */
  signed: boolean;
}

/** A certificate's status as a SingleResponse states it. */
export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: RevocationReason }
  | { status: 'unknown' };

/** One SingleResponse to build. */
export interface SingleResponseInput {
  certId: OcspCertId;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** What buildOcspResponse signs. */
export interface OcspResponseInput {
  /** ResponderID byKey: SHA-1 of the responder's public key (keyIdentifier(spki)); RFC 5019 prefers it. */
  responderKeyId?: Uint8Array;
  /** ResponderID byName: the responder's Name DER. Exactly one of the two is set. */
  responderName?: Uint8Array;
  producedAt: Date;
  responses: SingleResponseInput[];
  /** Echoed as a non-critical id-pkix-ocsp-nonce response extension. */
  nonce?: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** DER certificates to include, such as the delegated responder's. */
  certs?: Uint8Array[];
}

/** OCSPResponseStatus values (4 is unused). */
export type OcspResponseStatus =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized';

const STATUS_CODES: Record<OcspResponseStatus, number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};
const STATUS_BY_CODE = new Map(
  (Object.entries(STATUS_CODES) as [OcspResponseStatus, number][]).map(([s, c]) => [c, s]),
);

/** An OCSP response's fields, read from its DER. */
export interface ParsedOcspResponse {
  status: OcspResponseStatus;
  producedAt?: Date;
  responderKeyId?: Uint8Array;
  responderName?: Uint8Array;
  nonce?: Uint8Array;
  responses: {
    certId: OcspCertId;
    serialHex: string;
    status: 'good' | 'revoked' | 'unknown';
    revokedAt?: Date;
    reason?: RevocationReason;
    thisUpdate: Date;
    nextUpdate?: Date;
  }[];
  certs: Uint8Array[];
  tbs?: Uint8Array;
  signatureAlgorithm?: Uint8Array;
  signature?: Uint8Array;
}

function malformed(message: string): never {
  throw new PkiError('malformed-der', message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether INTEGER contents are non-empty and minimal, as DER requires. */
function isMinimalInteger(c: Uint8Array): boolean {
  if (c.length === 0) return false;
  if (c.length === 1) return true;
  return !((c[0] === 0 && !(c[1] & 0x80)) || (c[0] === 0xff && c[1] & 0x80));
}

// ---------------------------------------------------------------- CertID

/** H(issuer subject Name DER) and H(issuer subjectPublicKey bits): compute once per issuer and hash. */
export function issuerHashes(
  issuerCert: ParsedCertificate,
  hash: CertIdHash,
): { nameHash: Uint8Array; keyHash: Uint8Array } {
  const digest = (data: Uint8Array) => Uint8Array.from(createHash(hash).update(data).digest());
  return { nameHash: digest(issuerCert.subjectDer), keyHash: digest(readSpki(issuerCert.publicKey).key) };
}

/** The CertID for a certificate, so responses can be signed before any request asks (the cache). */
export function ocspCertId(
  hash: CertIdHash,
  issuer: { nameHash: Uint8Array; keyHash: Uint8Array },
  serial: Uint8Array,
): OcspCertId {
  const alg = CERT_ID_ALGORITHMS.get(hash);
  const size = CERT_ID_HASHES.find((h) => h.name === hash)?.size;
  if (!alg || !size) throw new PkiError('unsupported-algorithm', `unsupported CertID hash ${hash}`);
  if (issuer.nameHash.length !== size || issuer.keyHash.length !== size)
    throw new PkiError('bad-ocsp-cert-id', `issuer hashes must be ${size}-byte ${hash} digests`);
  if (!isMinimalInteger(serial)) throw new PkiError('bad-serial', 'serial must be minimal INTEGER contents');
  const der = sequence(
    alg,
    octetString(issuer.nameHash),
    octetString(issuer.keyHash),
    tlv(TAG.integer, serial),
  );
  // Read back, so its fields are views into der exactly as for a parsed CertID.
  return readCertId(der, decodeDer(der, der.length));
}

/** Reads a CertID hash AlgorithmIdentifier (parameters absent or NULL). */
function readCertIdHash(buf: Uint8Array, t: Tlv): (typeof CERT_ID_HASHES)[number] {
  const [idT, params, extra] = children(buf, expectTag(t, TAG.sequence, 'hashAlgorithm'));
  const id = bytesOf(buf, expectTag(idT, TAG.oid, 'hashAlgorithm'));
  const hash = CERT_ID_HASHES.find((h) => sameBytes(h.oid, id));
  if (!hash) malformed('unsupported CertID hash algorithm');
  if (extra || (params && (params.tag !== TAG.null || params.end !== params.body)))
    malformed('bad CertID hash parameters');
  return hash;
}

/** Reads a CertID at t. */
function readCertId(buf: Uint8Array, t: Tlv): OcspCertId {
  const [algT, nameT, keyT, serialT, extra] = children(buf, expectTag(t, TAG.sequence, 'CertID'));
  if (extra) malformed('trailing fields in CertID');
  const hash = readCertIdHash(buf, algT);
  const issuerNameHash = contentOf(buf, expectTag(nameT, TAG.octetString, 'issuerNameHash'));
  const issuerKeyHash = contentOf(buf, expectTag(keyT, TAG.octetString, 'issuerKeyHash'));
  if (issuerNameHash.length !== hash.size || issuerKeyHash.length !== hash.size)
    malformed(`CertID hashes are not ${hash.name} digests`);
  const serial = contentOf(buf, expectTag(serialT, TAG.integer, 'serialNumber'));
  if (!isMinimalInteger(serial)) malformed('bad serialNumber');
  return {
    hashAlgorithm: hash.name,
    issuerNameHash,
    issuerKeyHash,
    serial,
    serialHex: serialToHex(serial),
    der: bytesOf(buf, t),
  };
}

// ---------------------------------------------------------------- requests

// Critical extensions Kyso understands; any other critical one makes a message unanswerable (RFC 6960 §4.4).
const UNDERSTOOD = new Set<string>([OCSP_OID.nonce, OCSP_OID.acceptableResponses]);
const NONCE_TYPE = oid(OCSP_OID.nonce);
const NONCE_ID = NONCE_TYPE.subarray(2);

/** Reads the nonce OCTET STRING inside an id-pkix-ocsp-nonce extnValue (RFC 9654 §2.1). */
function readNonce(value: Uint8Array, max: number, code: string): Uint8Array {
  const nonce = contentOf(value, expectTag(decodeDer(value, value.length), TAG.octetString, 'nonce'));
  if (nonce.length === 0) malformed('empty nonce');
  if (nonce.length > max) throw new PkiError(code, `nonce of ${nonce.length} bytes exceeds ${max}`);
  return nonce;
}

/**
 * Checks an [n] EXPLICIT Extensions (no duplicates, no unknown critical ones) and returns the nonce's
 * extnValue, if any. The nonce's OID is compared as bytes: the usual request decodes no OID at all.
 */
function scanExtensions(buf: Uint8Array, wrapper: Tlv, what: string): Uint8Array | undefined {
  const list = children(buf, expectTag(onlyChild(buf, wrapper, what), TAG.sequence, 'Extensions'));
  const seen = list.length > 1 ? new Set<string>() : undefined;
  let nonce: Uint8Array | undefined;
  for (const e of list) {
    const f = children(buf, expectTag(e, TAG.sequence, 'Extension'));
    const id = contentOf(buf, expectTag(f[0], TAG.oid, 'extnID'));
    let i = 1;
    let critical = false;
    if (f[i]?.tag === TAG.boolean) critical = readBoolean(contentOf(buf, f[i++]));
    const value = contentOf(buf, expectTag(f[i++], TAG.octetString, 'extnValue'));
    if (i !== f.length) malformed('unexpected fields in Extension');
    if (seen) {
      const key = Buffer.from(id.buffer, id.byteOffset, id.length).toString('latin1');
      if (seen.has(key)) malformed('an extension appears twice');
      seen.add(key);
    }
    if (sameBytes(id, NONCE_ID)) nonce = value;
    else {
      const dotted = readOid(id);
      if (critical && !UNDERSTOOD.has(dotted)) malformed(`unsupported critical extension ${dotted}`);
    }
  }
  return nonce;
}

/** Reads an [n] EXPLICIT wrapper holding exactly one value. */
function onlyChild(buf: Uint8Array, t: Tlv, what: string): Tlv {
  const [inner, extra] = children(buf, t);
  if (!inner || extra) malformed(`${what}: expected exactly one value`);
  return inner;
}

/** Reads one Request: a CertID and optional singleRequestExtensions. */
function readRequest(buf: Uint8Array, t: Tlv): OcspCertId {
  const [certIdT, extsT, extra] = children(buf, expectTag(t, TAG.sequence, 'Request'));
  if (extra || (extsT && extsT.tag !== 0xa0)) malformed('unexpected fields in Request');
  if (extsT) scanExtensions(buf, extsT, 'singleRequestExtensions');
  return readCertId(buf, certIdT);
}

/** Checks optionalSignature's shape: the signature is not required and not verified. */
function checkRequestSignature(buf: Uint8Array, t: Tlv): void {
  const [algT, sigT, certsT, extra] = children(
    buf,
    expectTag(onlyChild(buf, t, 'optionalSignature'), TAG.sequence, 'Signature'),
  );
  expectTag(algT, TAG.sequence, 'signatureAlgorithm');
  readBitString(contentOf(buf, expectTag(sigT, TAG.bitString, 'signature')));
  if (extra || (certsT && certsT.tag !== 0xa0)) malformed('unexpected fields in Signature');
}

/** Parses an OCSP request (bounded: 64 KiB, 50 CertIDs by default); PkiError('malformed-ocsp-request') otherwise. */
export function parseOcspRequest(
  der: Uint8Array,
  limits: { maxBytes?: number; maxCertIds?: number } = {},
): OcspRequest {
  const maxBytes = limits.maxBytes ?? MAX_REQUEST_BYTES;
  const maxCertIds = limits.maxCertIds ?? DEFAULT_MAX_CERT_IDS;
  if (der.length > maxBytes)
    throw new PkiError('malformed-ocsp-request', `OCSP request of ${der.length} bytes exceeds ${maxBytes}`);
  return withCode('malformed-ocsp-request', 'OCSP request', () => {
    const [tbsT, sigT, extra] = children(
      der,
      expectTag(decodeDer(der, maxBytes), TAG.sequence, 'OCSPRequest'),
    );
    if (extra || (sigT && sigT.tag !== 0xa0)) malformed('unexpected fields in OCSPRequest');
    const f = children(der, expectTag(tbsT, TAG.sequence, 'TBSRequest'));
    let i = 0;
    // v1 is the DEFAULT and DER omits it; an explicit v1 is tolerated.
    if (
      f[i]?.tag === 0xa0 &&
      readSmallInt(contentOf(der, expectTag(onlyChild(der, f[i++], 'version'), TAG.integer, 'version'))) !== 0
    )
      malformed('unsupported OCSP request version');
    if (f[i]?.tag === 0xa1) onlyChild(der, f[i++], 'requestorName');
    const list = expectTag(f[i++], TAG.sequence, 'requestList');
    let nonce: Uint8Array | undefined;
    if (f[i]?.tag === 0xa2) {
      const value = scanExtensions(der, f[i++], 'requestExtensions');
      if (value) nonce = readNonce(value, MAX_NONCE_BYTES, 'ocsp-nonce-too-long');
    }
    if (i !== f.length) malformed('unexpected fields in TBSRequest');
    const certIds: OcspCertId[] = [];
    // Walked one at a time, so a request with thousands of CertIDs stops at the limit.
    for (let pos = list.body; pos < list.end; ) {
      if (certIds.length === maxCertIds)
        throw new PkiError(
          'malformed-ocsp-request',
          `OCSP request asks for more than ${maxCertIds} certificates`,
        );
      const r = readTlv(der, pos, list.end, list.depth + 1);
      certIds.push(readRequest(der, r));
      pos = r.end;
    }
    if (certIds.length === 0) malformed('empty requestList');
    if (sigT) checkRequestSignature(der, sigT);
    return { certIds, nonce, signed: sigT !== undefined };
  });
}

/** Builds an unsigned OCSP request (for `kyso ocsp check`); SHA-1 CertIDs by default, as RFC 5019 asks. */
export function buildOcspRequest(
  certIds: { issuer: ParsedCertificate; serial: Uint8Array }[],
  options: { nonce?: Uint8Array; hash?: CertIdHash } = {},
): Uint8Array {
  if (certIds.length === 0) throw new PkiError('bad-ocsp-request', 'an OCSP request needs a certificate');
  const hash = options.hash ?? 'sha1';
  const hashes = new Map<ParsedCertificate, { nameHash: Uint8Array; keyHash: Uint8Array }>();
  const requests = certIds.map(({ issuer, serial }) => {
    let h = hashes.get(issuer);
    if (!h) {
      h = issuerHashes(issuer, hash);
      hashes.set(issuer, h);
    }
    return sequence(ocspCertId(hash, h, serial).der);
  });
  const tbs = [tlvOf(TAG.sequence, requests)];
  const nonce = options.nonce;
  if (nonce !== undefined) {
    if (nonce.length === 0 || nonce.length > MAX_NONCE_BYTES)
      throw new PkiError('bad-ocsp-request', `a nonce must have 1 to ${MAX_NONCE_BYTES} bytes`);
    // requestExtensions [2] { Extension { id-pkix-ocsp-nonce, OCTET STRING { OCTET STRING nonce } } }
    tbs.push(explicit(2, sequence(sequence(NONCE_TYPE, octetString(octetString(nonce))))));
  }
  return sequence(tlvOf(TAG.sequence, tbs));
}

// ---------------------------------------------------------------- responses

const GOOD = Uint8Array.of(0x80, 0);
const UNKNOWN = Uint8Array.of(0x82, 0);
const SUCCESSFUL = Uint8Array.of(TAG.enumerated, 1, 0);
const BASIC_RESPONSE_TYPE = oid(OCSP_OID.basic);
const GENERALIZED_TIME_BYTES = 17;
// revocationReason [0] EXPLICIT CRLReason, per reason. 'unspecified' is left out (RFC 5280 §5.3.1) and
// removeFromCRL has no meaning outside delta CRLs: a released hold is simply 'good'.
const REASONS = new Map<RevocationReason, Uint8Array>(
  (Object.entries(REVOCATION_REASON_CODES) as [RevocationReason, number][])
    .filter(([r]) => r !== 'unspecified' && r !== 'removeFromCRL')
    .map(([r, code]) => [r, Uint8Array.of(0xa0, 3, TAG.enumerated, 1, code)]),
);

function badResponse(message: string): never {
  throw new PkiError('bad-ocsp-response', message);
}

// Years 0000 to 9999, the range GeneralizedTime's four digits hold, as epoch milliseconds.
const MIN_TIME = -62_167_219_200_000;
const MAX_TIME = 253_402_300_800_000;

/** Checks a date for GeneralizedTime and returns its epoch milliseconds. */
function timeOf(date: Date, what: string): number {
  const ms = date.getTime();
  if (!(ms >= MIN_TIME && ms < MAX_TIME))
    throw new PkiError('bad-time', `${what}: not a date GeneralizedTime can hold`);
  return ms;
}

/** Checks that bytes are one DER SEQUENCE (a CertID, Name or certificate passed through as it is). */
function checkSequence(der: Uint8Array, what: string): Uint8Array {
  withCode('bad-ocsp-response', what, () =>
    expectTag(decodeDer(der, MAX_RESPONSE_BYTES), TAG.sequence, what),
  );
  return der;
}

/** A SingleResponse, checked and measured before anything is written. */
interface PlannedSingle {
  certId: Uint8Array;
  status: Uint8Array | { revokedAt: number; reason?: Uint8Array; length: number };
  thisUpdate: number;
  nextUpdate?: number;
  length: number;
}

function planStatus(s: OcspCertStatus): PlannedSingle['status'] {
  switch (s.status) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      const revokedAt = timeOf(s.revokedAt, 'revokedAt');
      if (s.reason === undefined || s.reason === 'unspecified')
        return { revokedAt, length: GENERALIZED_TIME_BYTES };
      const reason = REASONS.get(s.reason);
      if (!reason) throw new PkiError('bad-reason', `revocation reason ${s.reason} cannot be given in OCSP`);
      return { revokedAt, reason, length: GENERALIZED_TIME_BYTES + reason.length };
    }
    default:
      return badResponse(`unknown certificate status ${(s as { status: unknown }).status}`);
  }
}

function planSingle(r: SingleResponseInput): PlannedSingle {
  const certId = checkSequence(r.certId.der, 'CertID');
  const status = planStatus(r.status);
  const thisUpdate = timeOf(r.thisUpdate, 'thisUpdate');
  let nextUpdate: number | undefined;
  if (r.nextUpdate !== undefined) {
    nextUpdate = timeOf(r.nextUpdate, 'nextUpdate');
    if (!(nextUpdate > thisUpdate)) throw new PkiError('bad-validity', 'nextUpdate must be after thisUpdate');
  }
  const statusBytes = status instanceof Uint8Array ? status.length : tlvSize(status.length);
  const length =
    certId.length +
    statusBytes +
    GENERALIZED_TIME_BYTES +
    (nextUpdate === undefined ? 0 : tlvSize(GENERALIZED_TIME_BYTES));
  return { certId, status, thisUpdate, nextUpdate, length };
}

/** The ResponderID's encoding as a [1] (byName) or [2] (byKey) explicit tag and its contents. */
function planResponderId(input: OcspResponseInput): { tag: number; inner: Uint8Array; innerTag?: number } {
  const { responderKeyId: key, responderName: name } = input;
  if ((key === undefined) === (name === undefined))
    badResponse('set exactly one of responderKeyId and responderName');
  if (key) {
    if (key.length !== 20) badResponse('responderKeyId must be a 20-byte SHA-1 key hash');
    return { tag: 0xa2, inner: key, innerTag: TAG.octetString };
  }
  return { tag: 0xa1, inner: checkSequence(name!, 'responderName') };
}

/** Writes DER into one buffer sized in advance, so the signed data costs one allocation. */
class DerWriter {
  readonly out: Uint8Array;
  pos = 0;

  constructor(size: number) {
    // Pooled, and every byte is written: the buffer is only ever handed to the signer.
    this.out = Buffer.allocUnsafe(size);
  }

  header(tag: number, length: number): void {
    this.pos = writeHeader(this.out, this.pos, tag, length);
  }

  bytes(b: Uint8Array): void {
    this.out.set(b, this.pos);
    this.pos += b.length;
  }

  /** GeneralizedTime YYYYMMDDHHMMSSZ, rounded down to the second. */
  time(ms: number): void {
    const d = new Date(ms);
    this.header(TAG.generalizedTime, 15);
    this.digits(d.getUTCFullYear(), 4);
    this.digits(d.getUTCMonth() + 1, 2);
    this.digits(d.getUTCDate(), 2);
    this.digits(d.getUTCHours(), 2);
    this.digits(d.getUTCMinutes(), 2);
    this.digits(d.getUTCSeconds(), 2);
    this.out[this.pos++] = 0x5a; // 'Z'
  }

  private digits(value: number, width: number): void {
    for (let i = width - 1, v = value; i >= 0; i--, v = Math.floor(v / 10))
      this.out[this.pos + i] = 0x30 + (v % 10);
    this.pos += width;
  }
}

function writeSingle(w: DerWriter, s: PlannedSingle): void {
  w.header(TAG.sequence, s.length);
  w.bytes(s.certId);
  if (s.status instanceof Uint8Array) w.bytes(s.status);
  else {
    w.header(0xa1, s.status.length);
    w.time(s.status.revokedAt);
    if (s.status.reason) w.bytes(s.status.reason);
  }
  w.time(s.thisUpdate);
  if (s.nextUpdate !== undefined) {
    w.header(0xa0, GENERALIZED_TIME_BYTES);
    w.time(s.nextUpdate);
  }
}

/** The ResponseData DER that the responder signs, checked first and then written in one pass. */
function responseData(input: OcspResponseInput): Uint8Array {
  if (input.responses.length === 0) badResponse('a response needs at least one SingleResponse');
  const id = planResponderId(input);
  const producedAt = timeOf(input.producedAt, 'producedAt');
  const singles = input.responses.map(planSingle);
  const nonce = input.nonce;
  if (nonce !== undefined && (nonce.length === 0 || nonce.length > MAX_NONCE_BYTES))
    badResponse(`a nonce must have 1 to ${MAX_NONCE_BYTES} bytes`);

  const idInner = id.innerTag === undefined ? id.inner.length : tlvSize(id.inner.length);
  let responsesLength = 0;
  for (const s of singles) responsesLength += tlvSize(s.length);
  // [1] { Extensions { Extension { extnID, extnValue OCTET STRING { OCTET STRING nonce } } } }
  const extension = nonce ? NONCE_TYPE.length + tlvSize(tlvSize(nonce.length)) : 0;
  const extensions = nonce ? tlvSize(tlvSize(tlvSize(extension))) : 0;
  const body = tlvSize(idInner) + GENERALIZED_TIME_BYTES + tlvSize(responsesLength) + extensions;

  const w = new DerWriter(tlvSize(body));
  w.header(TAG.sequence, body);
  w.header(id.tag, idInner);
  if (id.innerTag !== undefined) w.header(id.innerTag, id.inner.length);
  w.bytes(id.inner);
  w.time(producedAt);
  w.header(TAG.sequence, responsesLength);
  for (const s of singles) writeSingle(w, s);
  if (nonce) {
    w.header(0xa1, tlvSize(tlvSize(extension)));
    w.header(TAG.sequence, tlvSize(extension));
    w.header(TAG.sequence, extension);
    w.bytes(NONCE_TYPE);
    w.header(TAG.octetString, tlvSize(nonce.length));
    w.header(TAG.octetString, nonce.length);
    w.bytes(nonce);
  }
  if (w.pos !== w.out.length) throw new Error(`ResponseData: wrote ${w.pos} of ${w.out.length} bytes`);
  return w.out;
}

/** OCSPResponse { successful, [0] { id-pkix-ocsp-basic, OCTET STRING { BasicOCSPResponse } } } in one allocation. */
function wrapResponse(
  tbs: Uint8Array,
  algId: Uint8Array,
  signature: Uint8Array,
  certs: readonly Uint8Array[],
): Uint8Array {
  const sigLength = signature.length + 1;
  let certsLength = 0;
  for (const c of certs) certsLength += c.length;
  // certs [0] EXPLICIT SEQUENCE OF Certificate, left out when empty.
  const certsField = certs.length ? tlvSize(tlvSize(certsLength)) : 0;
  const basicBody = tbs.length + algId.length + tlvSize(sigLength) + certsField;
  const bytesBody = BASIC_RESPONSE_TYPE.length + tlvSize(tlvSize(basicBody));
  const body = SUCCESSFUL.length + tlvSize(tlvSize(bytesBody));
  const out = new Uint8Array(tlvSize(body));
  let p = writeHeader(out, 0, TAG.sequence, body);
  const put = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  put(SUCCESSFUL);
  p = writeHeader(out, p, 0xa0, tlvSize(bytesBody));
  p = writeHeader(out, p, TAG.sequence, bytesBody);
  put(BASIC_RESPONSE_TYPE);
  p = writeHeader(out, p, TAG.octetString, tlvSize(basicBody));
  p = writeHeader(out, p, TAG.sequence, basicBody);
  put(tbs);
  put(algId);
  p = writeHeader(out, p, TAG.bitString, sigLength);
  out[p++] = 0;
  put(signature);
  if (certs.length) {
    p = writeHeader(out, p, 0xa0, tlvSize(certsLength));
    p = writeHeader(out, p, TAG.sequence, certsLength);
    for (const c of certs) put(c);
  }
  return out;
}

/** Builds and signs a successful OCSPResponse holding a BasicOCSPResponse (times in whole seconds). */
export async function buildOcspResponse(input: OcspResponseInput, sign: SignFunction): Promise<Uint8Array> {
  const algId = signatureAlgorithmIdentifier(input.signatureAlgorithm);
  const certs = input.certs ?? [];
  for (const c of certs) checkSequence(c, 'certificate');
  const tbs = responseData(input);
  return wrapResponse(tbs, algId, await sign(tbs), certs);
}

const ERROR_RESPONSES = new Map(
  (Object.entries(STATUS_CODES) as [OcspResponseStatus, number][])
    .filter(([s]) => s !== 'successful')
    .map(([s, code]) => [s, Uint8Array.of(TAG.sequence, 3, TAG.enumerated, 1, code)]),
);

/** The unsigned OCSPResponse for an error status: a shared constant that callers must not modify. */
export function ocspErrorResponse(status: Exclude<OcspResponseStatus, 'successful'>): Uint8Array {
  const der = ERROR_RESPONSES.get(status);
  if (!der) return badResponse(`no error response for status ${status}`);
  return der;
}

// ---------------------------------------------------------------- parsing responses

function readGeneralizedTime(buf: Uint8Array, t: Tlv | undefined, what: string): Date {
  return readTime(buf, expectTag(t, TAG.generalizedTime, what));
}

/** Reads RevokedInfo (inside the [1] IMPLICIT tag). */
function readRevokedInfo(buf: Uint8Array, t: Tlv): { revokedAt: Date; reason?: RevocationReason } {
  const [timeT, reasonT, extra] = children(buf, t);
  if (extra || (reasonT && reasonT.tag !== 0xa0)) malformed('unexpected fields in RevokedInfo');
  const revokedAt = readGeneralizedTime(buf, timeT, 'revocationTime');
  if (!reasonT) return { revokedAt };
  const code = readSmallInt(
    contentOf(
      buf,
      expectTag(onlyChild(buf, reasonT, 'revocationReason'), TAG.enumerated, 'revocationReason'),
    ),
  );
  const reason = reasonFromCode(code);
  if (!reason) malformed(`unknown revocation reason code ${code}`);
  return { revokedAt, reason };
}

/** Reads one SingleResponse. */
function readSingleResponse(buf: Uint8Array, t: Tlv): ParsedOcspResponse['responses'][number] {
  const f = children(buf, expectTag(t, TAG.sequence, 'SingleResponse'));
  const certId = readCertId(buf, f[0]);
  const statusT = f[1];
  let entry: ParsedOcspResponse['responses'][number];
  const base = {
    certId,
    serialHex: certId.serialHex,
    thisUpdate: readGeneralizedTime(buf, f[2], 'thisUpdate'),
  };
  if (statusT?.tag === 0x80 && statusT.end === statusT.body) entry = { ...base, status: 'good' };
  else if (statusT?.tag === 0x82 && statusT.end === statusT.body) entry = { ...base, status: 'unknown' };
  else if (statusT?.tag === 0xa1) entry = { ...base, status: 'revoked', ...readRevokedInfo(buf, statusT) };
  else return malformed('bad certStatus');
  let i = 3;
  if (f[i]?.tag === 0xa0)
    entry.nextUpdate = readGeneralizedTime(buf, onlyChild(buf, f[i++], 'nextUpdate'), 'nextUpdate');
  if (f[i]?.tag === 0xa1) scanExtensions(buf, f[i++], 'singleExtensions');
  if (i !== f.length) malformed('unexpected fields in SingleResponse');
  return entry;
}

/** Reads ResponseData into out. */
function readResponseData(buf: Uint8Array, t: Tlv, out: ParsedOcspResponse): void {
  const f = children(buf, expectTag(t, TAG.sequence, 'ResponseData'));
  let i = 0;
  if (
    f[i]?.tag === 0xa0 &&
    readSmallInt(contentOf(buf, expectTag(onlyChild(buf, f[i++], 'version'), TAG.integer, 'version'))) !== 0
  )
    malformed('unsupported OCSP response version');
  const idT = f[i++];
  if (idT?.tag === 0xa1)
    out.responderName = bytesOf(buf, expectTag(onlyChild(buf, idT, 'byName'), TAG.sequence, 'byName'));
  else if (idT?.tag === 0xa2)
    out.responderKeyId = contentOf(buf, expectTag(onlyChild(buf, idT, 'byKey'), TAG.octetString, 'byKey'));
  else malformed('bad ResponderID');
  out.producedAt = readGeneralizedTime(buf, f[i++], 'producedAt');
  out.responses = children(buf, expectTag(f[i++], TAG.sequence, 'responses')).map((r) =>
    readSingleResponse(buf, r),
  );
  if (f[i]?.tag === 0xa1) {
    const value = scanExtensions(buf, f[i++], 'responseExtensions');
    if (value) out.nonce = readNonce(value, MAX_NONCE_BYTES, 'malformed-der');
  }
  if (i !== f.length) malformed('unexpected fields in ResponseData');
}

/** Reads a BasicOCSPResponse from the OCTET STRING contents of responseBytes into out. */
function readBasicResponse(buf: Uint8Array, t: Tlv, out: ParsedOcspResponse): void {
  const [tbsT, algT, sigT, certsT, extra] = children(buf, expectTag(t, TAG.sequence, 'BasicOCSPResponse'));
  if (extra || (certsT && certsT.tag !== 0xa0)) malformed('unexpected fields in BasicOCSPResponse');
  readResponseData(buf, tbsT, out);
  out.tbs = bytesOf(buf, tbsT);
  out.signatureAlgorithm = bytesOf(buf, expectTag(algT, TAG.sequence, 'signatureAlgorithm'));
  const sig = readBitString(contentOf(buf, expectTag(sigT, TAG.bitString, 'signature')));
  if (sig.unusedBits !== 0) malformed('signature has a partial byte');
  out.signature = sig.bytes;
  if (certsT)
    out.certs = children(buf, expectTag(onlyChild(buf, certsT, 'certs'), TAG.sequence, 'certs')).map((c) =>
      bytesOf(buf, expectTag(c, TAG.sequence, 'Certificate')),
    );
}

/** Parses an OCSPResponse (bounded: 1 MiB by default); PkiError('malformed-ocsp-response') if it is not one. */
export function parseOcspResponse(der: Uint8Array, maxBytes = MAX_RESPONSE_BYTES): ParsedOcspResponse {
  if (der.length > maxBytes)
    throw new PkiError('malformed-ocsp-response', `OCSP response of ${der.length} bytes exceeds ${maxBytes}`);
  return withCode('malformed-ocsp-response', 'OCSP response', () => {
    const [statusT, bytesT, extra] = children(
      der,
      expectTag(decodeDer(der, maxBytes), TAG.sequence, 'OCSPResponse'),
    );
    if (extra || (bytesT && bytesT.tag !== 0xa0)) malformed('unexpected fields in OCSPResponse');
    const code = readSmallInt(contentOf(der, expectTag(statusT, TAG.enumerated, 'responseStatus')));
    const status = STATUS_BY_CODE.get(code);
    if (!status) malformed(`unknown responseStatus ${code}`);
    const out: ParsedOcspResponse = { status, responses: [], certs: [] };
    if (status !== 'successful') return out;
    if (!bytesT) malformed('successful response without responseBytes');
    const [typeT, responseT, more] = children(
      der,
      expectTag(onlyChild(der, bytesT, 'responseBytes'), TAG.sequence, 'ResponseBytes'),
    );
    if (more || !sameBytes(bytesOf(der, expectTag(typeT, TAG.oid, 'responseType')), BASIC_RESPONSE_TYPE))
      malformed('not a basic OCSP response');
    const inner = expectTag(responseT, TAG.octetString, 'response');
    // The BasicOCSPResponse must fill the OCTET STRING exactly.
    const basic = readTlv(der, inner.body, inner.end, inner.depth + 1);
    if (basic.end !== inner.end) malformed('trailing bytes after BasicOCSPResponse');
    readBasicResponse(der, basic, out);
    return out;
  });
}
