import { createHash } from 'node:crypto';
import {
  type HashName,
  hashOf,
  type SignatureAlgorithm,
  signatureAlgorithmIdentifier,
  verifySignature,
} from './algorithms.js';
import { type ParsedCertificate, parseCertificate, type SignFunction } from './certificate.js';
import {
  bytesOf,
  contentOf,
  DER_NULL,
  decodeDer,
  expectTag,
  explicit,
  integer,
  octetString,
  oid,
  readOid,
  readSmallInt,
  readTlv,
  sequence,
  setOf,
  TAG,
  type Tlv,
  tlv,
  tlvSize,
  writeHeader,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import { OID } from './oids.js';

// The part of CMS (RFC 5652) that time-stamp tokens and PAdES signatures need: one SignedData with
// issuerAndSerialNumber signers, DER throughout, and a bounded reader for what others send.

/** CMS content types and attributes (RFC 5652, RFC 2634, RFC 5035, RFC 3161). */
export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
} as const;

/** The key that signs a SignedData and its certificate. */
export interface SignerInput {
  /** The signer's certificate DER; sid is its issuer and serial number. */
  certificate: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  sign: SignFunction;
}

/** An attribute: its type and each value's DER. */
export interface CmsAttribute {
  oid: string;
  values: Uint8Array[];
}

/** What buildSignedData encodes and signs. */
export interface SignedDataInput {
  /** eContentType, e.g. CMS_OID.tstInfo or CMS_OID.data. */
  contentType: string;
  /** Encapsulated content; undefined makes a detached signature, and contentDigest is then required. */
  content?: Uint8Array;
  /** The detached content's digest under the signature's hash (PAdES hashes the byte ranges itself). */
  contentDigest?: Uint8Array;
  /** Signed attributes besides contentType and messageDigest, which the builder adds. */
  signedAttributes: CmsAttribute[];
  certificates?: Uint8Array[];
  crls?: Uint8Array[];
  signer: SignerInput;
  unsignedAttributes?: CmsAttribute[];
}

/** A SignedData's fields, read from its ContentInfo DER. */
export interface ParsedSignedData {
  contentType: string;
  content?: Uint8Array;
  certificates: Uint8Array[];
  crls: Uint8Array[];
  signers: ParsedSigner[];
}

/** One SignerInfo. */
export interface ParsedSigner {
  sidIssuer?: Uint8Array;
  sidSerial?: Uint8Array;
  sidKeyId?: Uint8Array;
  /** 'sha256', 'sha384' or 'sha512'; the dotted OID for any other digest. */
  digestAlgorithm: string;
  /** The signed attributes re-tagged as the SET OF that was signed. */
  signedAttrs?: Uint8Array;
  attributes: Map<string, Uint8Array[]>;
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  unsignedAttributes: Map<string, Uint8Array[]>;
}

const HASH_NAMES: Record<string, HashName> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};
/** PKCS#1 v1.5 identifiers by hash: what verifySignature understands for a CMS rsaEncryption signer. */
const RSA_PKCS1_IDS: Record<HashName, string> = {
  sha256: OID.sha256WithRsa,
  sha384: OID.sha384WithRsa,
  sha512: OID.sha512WithRsa,
};

/** SHA-2 AlgorithmIdentifiers with absent parameters, as RFC 5754 prefers. */
const DIGEST_ALGORITHMS: Record<HashName, Uint8Array> = {
  sha256: sequence(oid(OID.sha256)),
  sha384: sequence(oid(OID.sha384)),
  sha512: sequence(oid(OID.sha512)),
};
const RSA_ENCRYPTION = sequence(oid(OID.rsaEncryption), DER_NULL);

/** The hash name for an OID Kyso accepts in CMS and TSP, or undefined. */
export function hashNameOf(dotted: string): HashName | undefined {
  return Object.hasOwn(HASH_NAMES, dotted) ? HASH_NAMES[dotted] : undefined;
}

/** The name itself when it is a hash Kyso accepts, else undefined. */
function knownHash(name: string): HashName | undefined {
  return Object.hasOwn(DIGEST_ALGORITHMS, name) ? (name as HashName) : undefined;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

function badInput(message: string): never {
  throw new PkiError('bad-cms-input', message);
}

// ---------------------------------------------------------------- building

/** Encodes an Attribute after checking that each value is one DER element. */
function encodeAttribute(a: CmsAttribute): Uint8Array {
  if (a.values.length === 0) badInput(`attribute ${a.oid} has no values`);
  for (const v of a.values) withCode('bad-cms-input', `attribute ${a.oid}`, () => decodeDer(v, v.length));
  return sequence(oid(a.oid), setOf(a.values));
}

function checkUnique(attrs: CmsAttribute[], reserved: string[], what: string): void {
  const seen = new Set(reserved);
  for (const a of attrs) {
    if (seen.has(a.oid)) badInput(`${what} attribute ${a.oid} given twice or set by the builder`);
    seen.add(a.oid);
  }
}

/** The CMS signatureAlgorithm: rsaEncryption for PKCS#1 v1.5 as OpenSSL writes it, else the X.509 one. */
function cmsSignatureAlgorithm(alg: SignatureAlgorithm): Uint8Array {
  return alg.startsWith('RSA-PKCS1') ? RSA_ENCRYPTION : signatureAlgorithmIdentifier(alg);
}

/** The digest that messageDigest carries: of the content, or the one given for detached content. */
function contentDigestOf(input: SignedDataInput, hash: HashName): Uint8Array {
  if (input.content !== undefined) {
    if (input.contentDigest !== undefined) badInput('give content or contentDigest, not both');
    return createHash(hash).update(input.content).digest();
  }
  if (input.contentDigest === undefined) badInput('detached content needs contentDigest');
  if (input.contentDigest.length !== createHash(hash).digest().length)
    badInput(`contentDigest is not a ${hash} digest`);
  return input.contentDigest;
}

/** A DER value still to be written: bytes, or a constructed TLV over parts. */
export type DerTree = Uint8Array | Constructed;
type Constructed = { tag: number; parts: DerTree[] };

function contentLength(t: Constructed): number {
  let n = 0;
  for (const p of t.parts) n += p instanceof Uint8Array ? p.length : tlvSize(contentLength(p));
  return n;
}

function writeTree(out: Uint8Array, pos: number, t: DerTree): number {
  if (t instanceof Uint8Array) {
    out.set(t, pos);
    return pos + t.length;
  }
  let at = writeHeader(out, pos, t.tag, contentLength(t));
  for (const p of t.parts) at = writeTree(out, at, p);
  return at;
}

/** Encodes a tree in one allocation: nesting certificates and content copies them once, not per level. */
export function encodeTree(t: DerTree): Uint8Array {
  if (t instanceof Uint8Array) return t;
  const out = new Uint8Array(tlvSize(contentLength(t)));
  writeTree(out, 0, t);
  return out;
}

/** Bytes in DER SET OF order, for a set written as a tree. */
const derSorted = (parts: Uint8Array[]) => [...parts].sort(Buffer.compare);

const VERSION_1 = integer(1);
const VERSION_3 = integer(3);

/** Builds and signs a ContentInfo(SignedData) with one signer and DER-sorted signed attributes. */
export async function buildSignedData(input: SignedDataInput): Promise<Uint8Array> {
  return encodeTree(await signedDataTree(input));
}

/** buildSignedData, unencoded, so a TimeStampResp can wrap the token without copying it. */
export async function signedDataTree(input: SignedDataInput): Promise<DerTree> {
  const { signer } = input;
  const cert = factsOf(signer.certificate);
  const hash = hashOf(signer.signatureAlgorithm);
  const digestAlg = DIGEST_ALGORITHMS[hash];
  checkUnique(input.signedAttributes, [CMS_OID.contentType, CMS_OID.messageDigest], 'signed');
  checkUnique(input.unsignedAttributes ?? [], [], 'unsigned');
  const signedAttrs = setOf([
    encodeAttribute({ oid: CMS_OID.contentType, values: [oid(input.contentType)] }),
    encodeAttribute({ oid: CMS_OID.messageDigest, values: [octetString(contentDigestOf(input, hash))] }),
    ...input.signedAttributes.map(encodeAttribute),
  ]);
  // The signature covers the SET OF; SignerInfo carries the same contents under [0].
  const signature = await signer.sign(signedAttrs);
  const signerInfo: DerTree[] = [
    VERSION_1,
    cert.issuerAndSerial,
    digestAlg,
    { tag: 0xa0, parts: [contentOf(signedAttrs, readTlv(signedAttrs, 0, signedAttrs.length, 0))] },
    cmsSignatureAlgorithm(signer.signatureAlgorithm),
    octetString(signature),
  ];
  if (input.unsignedAttributes?.length)
    signerInfo.push({ tag: 0xa1, parts: derSorted(input.unsignedAttributes.map(encodeAttribute)) });
  const encap: DerTree[] = [oid(input.contentType)];
  if (input.content !== undefined)
    encap.push({ tag: 0xa0, parts: [{ tag: TAG.octetString, parts: [input.content] }] });
  // RFC 5652 §5.1: version 3 for content other than id-data, else 1 (no attribute certificates here).
  const fields: DerTree[] = [
    input.contentType === CMS_OID.data ? VERSION_1 : VERSION_3,
    setOf([digestAlg]),
    { tag: TAG.sequence, parts: encap },
  ];
  if (input.certificates?.length) fields.push({ tag: 0xa0, parts: derSorted(input.certificates) });
  if (input.crls?.length) fields.push({ tag: 0xa1, parts: derSorted(input.crls) });
  fields.push({ tag: TAG.set, parts: [{ tag: TAG.sequence, parts: signerInfo }] });
  return {
    tag: TAG.sequence,
    parts: [oid(CMS_OID.signedData), { tag: 0xa0, parts: [{ tag: TAG.sequence, parts: fields }] }],
  };
}

/** What signing needs from a signer certificate, derived once per certificate. */
interface CertificateFacts {
  der: Uint8Array;
  issuerAndSerial: Uint8Array;
  /** ESS IssuerSerial: the issuer as a directoryName and the serial number. */
  issuerSerial: Uint8Array;
  hashes: Map<HashName, Uint8Array>;
}

const certificateFacts = new WeakMap<Uint8Array, CertificateFacts>();

/**
 * The facts for a certificate buffer. A TSA signs with one certificate all day and parsing it was a third
 * of the cost of a token, so they are cached per buffer and re-checked against a copy in case it changed.
 */
function factsOf(cert: Uint8Array): CertificateFacts {
  const known = certificateFacts.get(cert);
  if (known && sameBytes(known.der, cert)) return known;
  const parsed = parseCertificate(cert);
  const serial = tlv(TAG.integer, parsed.serial);
  const facts = {
    der: Uint8Array.from(cert),
    issuerAndSerial: sequence(parsed.issuerDer, serial),
    issuerSerial: sequence(sequence(explicit(4, parsed.issuerDer)), serial),
    hashes: new Map<HashName, Uint8Array>(),
  };
  certificateFacts.set(cert, facts);
  return facts;
}

/** The signingCertificateV2 attribute (RFC 5035) naming one certificate by hash and issuerSerial. */
export function signingCertificateV2(cert: Uint8Array, hash: HashName = 'sha256'): CmsAttribute {
  const facts = factsOf(cert);
  let digest = facts.hashes.get(hash);
  if (!digest) {
    digest = createHash(hash).update(cert).digest();
    facts.hashes.set(hash, digest);
  }
  // hashAlgorithm DEFAULT id-sha256: DER leaves it out.
  const id =
    hash === 'sha256'
      ? sequence(octetString(digest), facts.issuerSerial)
      : sequence(DIGEST_ALGORITHMS[hash], octetString(digest), facts.issuerSerial);
  return { oid: CMS_OID.signingCertificateV2, values: [sequence(sequence(id))] };
}

// ---------------------------------------------------------------- parsing

const MAX_CMS_BYTES = 4 * 1024 * 1024;
const MAX_ITEMS = 1024;

function malformed(message: string): never {
  throw new PkiError('malformed-der', message);
}

/** The TLVs inside a constructed TLV, at most max of them, so a flood of tiny elements stays cheap. */
export function boundedChildren(buf: Uint8Array, t: Tlv, what: string, max = MAX_ITEMS): Tlv[] {
  if (!(t.tag & 0x20)) malformed(`${what}: not constructed`);
  const out: Tlv[] = [];
  for (let pos = t.body; pos < t.end; ) {
    if (out.length === max) malformed(`${what}: more than ${max} elements`);
    const c = readTlv(buf, pos, t.end, t.depth + 1);
    out.push(c);
    pos = c.end;
  }
  return out;
}

/** Reads an AlgorithmIdentifier's OID. */
export function readAlgorithmOid(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  const [id] = boundedChildren(buf, expectTag(t, TAG.sequence, what), what, 2);
  return readOid(contentOf(buf, expectTag(id, TAG.oid, what)));
}

/** Reads a SET OF Attribute into a map; signed attributes may not repeat a type. */
function readAttributes(buf: Uint8Array, t: Tlv, unique: boolean): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  for (const a of boundedChildren(buf, t, 'attributes', 256)) {
    const [typeT, valuesT, extra] = boundedChildren(
      buf,
      expectTag(a, TAG.sequence, 'Attribute'),
      'Attribute',
      3,
    );
    if (extra) malformed('Attribute: unexpected fields');
    const type = readOid(contentOf(buf, expectTag(typeT, TAG.oid, 'attrType')));
    const values = boundedChildren(buf, expectTag(valuesT, TAG.set, 'attrValues'), 'attrValues').map((v) =>
      bytesOf(buf, v),
    );
    if (values.length === 0) malformed(`attribute ${type} has no values`);
    const known = out.get(type);
    if (known && unique) malformed(`signed attribute ${type} appears twice`);
    out.set(type, known ? [...known, ...values] : values);
  }
  return out;
}

function readSigner(buf: Uint8Array, t: Tlv): ParsedSigner {
  const f = boundedChildren(buf, expectTag(t, TAG.sequence, 'SignerInfo'), 'SignerInfo', 8);
  let i = 0;
  const version = readSmallInt(contentOf(buf, expectTag(f[i++], TAG.integer, 'SignerInfo version')));
  const sid = f[i++];
  const signer: Partial<ParsedSigner> = {};
  if (sid?.tag === TAG.sequence) {
    const [issuerT, serialT, extra] = boundedChildren(buf, sid, 'issuerAndSerialNumber', 3);
    if (extra || version !== 1) malformed('bad issuerAndSerialNumber');
    signer.sidIssuer = bytesOf(buf, expectTag(issuerT, TAG.sequence, 'issuer'));
    signer.sidSerial = contentOf(buf, expectTag(serialT, TAG.integer, 'serialNumber'));
    if (signer.sidSerial.length === 0) malformed('empty serialNumber');
  } else if (sid?.tag === 0x80 && version === 3) signer.sidKeyId = contentOf(buf, sid);
  else malformed('bad SignerIdentifier');
  const digestOid = readAlgorithmOid(buf, f[i++], 'digestAlgorithm');
  let attributes = new Map<string, Uint8Array[]>();
  let signedAttrs: Uint8Array | undefined;
  if (f[i]?.tag === 0xa0) {
    attributes = readAttributes(buf, f[i], true);
    signedAttrs = Uint8Array.from(bytesOf(buf, f[i++]));
    signedAttrs[0] = TAG.set;
  }
  const signatureAlgorithm = bytesOf(buf, expectTag(f[i++], TAG.sequence, 'signatureAlgorithm'));
  const signature = contentOf(buf, expectTag(f[i++], TAG.octetString, 'signature'));
  let unsignedAttributes = new Map<string, Uint8Array[]>();
  if (f[i]?.tag === 0xa1) unsignedAttributes = readAttributes(buf, f[i++], false);
  if (i !== f.length) malformed('SignerInfo: unexpected fields');
  return {
    ...signer,
    digestAlgorithm: hashNameOf(digestOid) ?? digestOid,
    signedAttrs,
    attributes,
    signatureAlgorithm,
    signature,
    unsignedAttributes,
  };
}

/** The whole encodings of the elements of an implicit SET OF whose tag is a SEQUENCE (plain certs, CRLs). */
function sequencesIn(buf: Uint8Array, t: Tlv, what: string): Uint8Array[] {
  return boundedChildren(buf, t, what)
    .filter((c) => c.tag === TAG.sequence)
    .map((c) => bytesOf(buf, c));
}

/** Parses a ContentInfo(SignedData) DER (bounded: 4 MiB by default); PkiError('malformed-cms') if it is not one. */
export function parseSignedData(der: Uint8Array, maxBytes = MAX_CMS_BYTES): ParsedSignedData {
  return withCode('malformed-cms', 'SignedData', () => {
    const top = decodeDer(der, maxBytes);
    const [typeT, explicitT, extra] = boundedChildren(
      der,
      expectTag(top, TAG.sequence, 'ContentInfo'),
      'ContentInfo',
      3,
    );
    if (extra) malformed('ContentInfo: unexpected fields');
    if (readOid(contentOf(der, expectTag(typeT, TAG.oid, 'contentType'))) !== CMS_OID.signedData)
      malformed('ContentInfo does not hold SignedData');
    const [sdT, more] = boundedChildren(der, expectTag(explicitT, 0xa0, 'content'), 'content', 2);
    if (more) malformed('ContentInfo: unexpected fields');
    const f = boundedChildren(der, expectTag(sdT, TAG.sequence, 'SignedData'), 'SignedData', 8);
    let i = 0;
    const version = readSmallInt(contentOf(der, expectTag(f[i++], TAG.integer, 'version')));
    if (version > 5) malformed(`unknown SignedData version ${version}`);
    boundedChildren(der, expectTag(f[i++], TAG.set, 'digestAlgorithms'), 'digestAlgorithms', 16);
    const [eTypeT, eContentT, eMore] = boundedChildren(
      der,
      expectTag(f[i++], TAG.sequence, 'encapContentInfo'),
      'encapContentInfo',
      3,
    );
    if (eMore) malformed('encapContentInfo: unexpected fields');
    let content: Uint8Array | undefined;
    if (eContentT) {
      const [octets, after] = boundedChildren(der, expectTag(eContentT, 0xa0, 'eContent'), 'eContent', 2);
      if (after) malformed('eContent: unexpected fields');
      content = contentOf(der, expectTag(octets, TAG.octetString, 'eContent'));
    }
    const certificates = f[i]?.tag === 0xa0 ? sequencesIn(der, f[i++], 'certificates') : [];
    const crls = f[i]?.tag === 0xa1 ? sequencesIn(der, f[i++], 'crls') : [];
    const signers = boundedChildren(der, expectTag(f[i++], TAG.set, 'signerInfos'), 'signerInfos', 64).map(
      (s) => readSigner(der, s),
    );
    if (i !== f.length) malformed('SignedData: unexpected fields');
    return {
      contentType: readOid(contentOf(der, expectTag(eTypeT, TAG.oid, 'eContentType'))),
      content,
      certificates,
      crls,
      signers,
    };
  });
}

// ---------------------------------------------------------------- verification

/** How one signer checked out. */
export interface SignerVerification {
  ok: boolean;
  reason?: string;
  signerCertificate?: Uint8Array;
}

/** What verifySigner checks against: detached content (or its digest) and certificates besides the embedded ones. */
export interface SignerVerificationOptions {
  content?: Uint8Array;
  contentDigest?: Uint8Array;
  certificates?: Uint8Array[];
}

/** The certificate a signer names, among the embedded ones and those given. */
export function findSignerCertificate(
  signer: ParsedSigner,
  candidates: Uint8Array[],
): ParsedCertificate | undefined {
  for (const der of candidates) {
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(der);
    } catch {
      continue;
    }
    const matches = signer.sidKeyId
      ? !!cert.subjectKeyId && sameBytes(cert.subjectKeyId, signer.sidKeyId)
      : sameBytes(cert.issuerDer, signer.sidIssuer!) && sameBytes(cert.serial, signer.sidSerial!);
    if (matches) return cert;
  }
  return undefined;
}

/** The single value of an attribute, or undefined when it is absent or has several. */
function singleValue(attributes: Map<string, Uint8Array[]>, type: string): Uint8Array | undefined {
  const values = attributes.get(type);
  return values?.length === 1 ? values[0] : undefined;
}

/** Whether an IssuerSerial names the certificate (its directoryName issuer and serial). */
function issuerSerialMatches(buf: Uint8Array, t: Tlv, cert: ParsedCertificate): boolean {
  const [namesT, serialT] = boundedChildren(
    buf,
    expectTag(t, TAG.sequence, 'IssuerSerial'),
    'IssuerSerial',
    3,
  );
  const names = boundedChildren(buf, expectTag(namesT, TAG.sequence, 'GeneralNames'), 'GeneralNames', 16);
  const directory = names.find((n) => n.tag === 0xa4);
  if (!directory) return false;
  const [name] = boundedChildren(buf, directory, 'directoryName', 2);
  return (
    !!name &&
    sameBytes(bytesOf(buf, name), cert.issuerDer) &&
    sameBytes(contentOf(buf, expectTag(serialT, TAG.integer, 'serialNumber')), cert.serial)
  );
}

/**
 * Checks an ESS signing-certificate attribute (v2, else v1) against the signer certificate: its first
 * ESSCertID must name that certificate. Returns why not, or undefined when it does.
 */
function checkSigningCertificate(
  attributes: Map<string, Uint8Array[]>,
  cert: ParsedCertificate,
): string | undefined {
  const v2 = singleValue(attributes, CMS_OID.signingCertificateV2);
  const value = v2 ?? singleValue(attributes, CMS_OID.signingCertificate);
  if (!value) return 'signing-certificate attribute missing or repeated';
  const top = decodeDer(value, value.length);
  const [certsT] = boundedChildren(value, expectTag(top, TAG.sequence, 'SigningCertificate'), 'ESS', 2);
  const [first] = boundedChildren(value, expectTag(certsT, TAG.sequence, 'certs'), 'certs');
  const f = boundedChildren(value, expectTag(first, TAG.sequence, 'ESSCertID'), 'ESSCertID', 3);
  let i = 0;
  let hash: string = v2 ? 'sha256' : 'sha1';
  if (v2 && f[i]?.tag === TAG.sequence) {
    const named = hashNameOf(readAlgorithmOid(value, f[i++], 'hashAlgorithm'));
    if (!named) return 'unsupported hash in the signing-certificate attribute';
    hash = named;
  }
  const certHash = contentOf(value, expectTag(f[i++], TAG.octetString, 'certHash'));
  if (!sameBytes(certHash, createHash(hash).update(cert.der).digest()))
    return 'signing-certificate attribute names another certificate';
  if (f[i] && !issuerSerialMatches(value, f[i++], cert))
    return 'signing-certificate attribute names another issuer or serial';
  return i === f.length ? undefined : 'malformed signing-certificate attribute';
}

/** The signature AlgorithmIdentifier verifySignature understands: rsaEncryption takes the digest's hash. */
function verifiableAlgorithm(signer: ParsedSigner): Uint8Array | undefined {
  const der = signer.signatureAlgorithm;
  if (readAlgorithmOid(der, decodeDer(der, 1024), 'signatureAlgorithm') !== OID.rsaEncryption) return der;
  const hash = knownHash(signer.digestAlgorithm);
  return hash && sequence(oid(RSA_PKCS1_IDS[hash]), DER_NULL);
}

/** What the signature covers and the checks its signed attributes pass, or a reason they fail. */
function signedBytes(
  sd: ParsedSignedData,
  signer: ParsedSigner,
  options: SignerVerificationOptions,
): { data: Uint8Array } | { reason: string } {
  const content = options.content ?? sd.content;
  const hash = knownHash(signer.digestAlgorithm);
  if (!signer.signedAttrs) {
    // Without signed attributes the signature is over the content itself (RFC 5652 §5.4).
    if (sd.contentType !== CMS_OID.data) return { reason: 'signed attributes missing' };
    return content ? { data: content } : { reason: 'content missing' };
  }
  if (!hash) return { reason: `unsupported digest algorithm ${signer.digestAlgorithm}` };
  const type = singleValue(signer.attributes, CMS_OID.contentType);
  if (!type || !sameBytes(type, oid(sd.contentType)))
    return { reason: 'contentType attribute does not match' };
  const digest = singleValue(signer.attributes, CMS_OID.messageDigest);
  const expected = content ? createHash(hash).update(content).digest() : options.contentDigest;
  if (!expected) return { reason: 'content missing' };
  if (!digest || !sameBytes(digest, octetString(expected)))
    return { reason: 'messageDigest does not match the content' };
  return { data: signer.signedAttrs };
}

/** Checks one signer's digest, ESS signing-certificate (if present) and signature; chain building is the caller's. */
export function verifySigner(
  sd: ParsedSignedData,
  signer: ParsedSigner,
  options: SignerVerificationOptions = {},
): SignerVerification {
  const cert = findSignerCertificate(signer, [...sd.certificates, ...(options.certificates ?? [])]);
  if (!cert) return { ok: false, reason: 'signer certificate not found' };
  const covered = signedBytes(sd, signer, options);
  if ('reason' in covered) return { ok: false, reason: covered.reason };
  const ess = [CMS_OID.signingCertificateV2, CMS_OID.signingCertificate].some((a) =>
    signer.attributes.has(a),
  );
  try {
    const mismatch = ess ? checkSigningCertificate(signer.attributes, cert) : undefined;
    if (mismatch) return { ok: false, reason: mismatch };
    const alg = verifiableAlgorithm(signer);
    if (!alg) return { ok: false, reason: 'unsupported signature algorithm' };
    if (!verifySignature(alg, cert.publicKey, covered.data, signer.signature))
      return { ok: false, reason: 'bad signature' };
  } catch (e) {
    if (e instanceof PkiError) return { ok: false, reason: e.message };
    throw e;
  }
  return { ok: true, signerCertificate: cert.der };
}
