import { createHash } from 'node:crypto';
import { readSpki, type SignatureAlgorithm, signatureAlgorithmIdentifier } from './algorithms.js';
import {
  bitString,
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  explicit,
  readSmallInt,
  readTime,
  sequence,
  TAG,
  time,
  tlv,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import {
  type Extension,
  encodeExtensions,
  readAuthorityKeyId,
  readBasicConstraints,
  readSubjectAltName,
} from './extensions.js';
import { type DistinguishedName, encodeName, readName } from './name.js';
import { OID } from './oids.js';
import { serialContent, serialToHex } from './serial.js';
import { readExplicitExtensions, readSigned } from './signed.js';

/** What the CA decides for a certificate; buildCertificate encodes and signs it. */
export interface CertificateTemplate {
  serial: Uint8Array;
  /** The issuer Name DER, copied byte-for-byte from the issuer certificate's subject. */
  issuer: Uint8Array;
  /** A name to encode, or a Name DER to copy as it is. */
  subject: DistinguishedName | Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  extensions: Extension[];
}

/** Signs the DER given and returns an X.509-ready signature (ECDSA as Ecdsa-Sig-Value DER, RSA raw). */
export type SignFunction = (data: Uint8Array) => Promise<Uint8Array>;

const V3 = explicit(0, Uint8Array.of(TAG.integer, 1, 2));
const MAX_CERT_BYTES = 1024 * 1024;

/** Checks that bytes are one DER SEQUENCE (a Name passed through as DER). */
function checkNameDer(der: Uint8Array, what: string): Uint8Array {
  withCode('bad-name', what, () => expectTag(decodeDer(der, 16 * 1024), TAG.sequence, what));
  return der;
}

/** Wraps a to-be-signed structure with its algorithm and signature (certificates and CRLs). */
async function signStructure(tbs: Uint8Array, algId: Uint8Array, sign: SignFunction): Promise<Uint8Array> {
  const signature = await sign(tbs);
  return sequence(tbs, algId, bitString(signature));
}

/** Builds and signs a v3 certificate (UTCTime before 2050, GeneralizedTime after, whole seconds). */
export async function buildCertificate(t: CertificateTemplate, sign: SignFunction): Promise<Uint8Array> {
  if (!(t.notBefore.getTime() <= t.notAfter.getTime()))
    throw new PkiError('bad-validity', 'notAfter must not be before notBefore');
  readSpki(t.publicKey);
  const algId = signatureAlgorithmIdentifier(t.signatureAlgorithm);
  const subject =
    t.subject instanceof Uint8Array ? checkNameDer(t.subject, 'subject') : encodeName(t.subject);
  const parts = [
    V3,
    tlv(TAG.integer, serialContent(t.serial)),
    algId,
    checkNameDer(t.issuer, 'issuer'),
    sequence(time(t.notBefore), time(t.notAfter)),
    subject,
    t.publicKey,
  ];
  if (t.extensions.length > 0) parts.push(explicit(3, encodeExtensions(t.extensions)));
  return signStructure(sequence(...parts), algId, sign);
}

/** A certificate's fields, read from its DER. */
export interface ParsedCertificate {
  der: Uint8Array;
  tbs: Uint8Array;
  serial: Uint8Array;
  serialHex: string;
  issuer: DistinguishedName;
  issuerDer: Uint8Array;
  subject: DistinguishedName;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: Uint8Array;
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  extensions: Extension[];
  subjectKeyId?: Uint8Array;
  authorityKeyId?: Uint8Array;
  isCa: boolean;
  emails: string[];
}

/** Parses a certificate DER (bounded: 1 MiB by default); PkiError('malformed-certificate') if it is not one. */
export function parseCertificate(input: Uint8Array, maxBytes = MAX_CERT_BYTES): ParsedCertificate {
  return withCode('malformed-certificate', 'certificate', () => {
    const der = input;
    const signed = readSigned(der, maxBytes, 'Certificate', 'TBSCertificate');
    const { tbsT, fields: f, signatureAlgorithm } = signed;
    let i = 0;
    if (f[0]?.tag === 0xa0) {
      const [v] = children(der, f[i++]);
      if (readSmallInt(contentOf(der, expectTag(v, TAG.integer, 'version'))) > 2)
        throw new PkiError('malformed-der', 'unknown certificate version');
    }
    const serialT = expectTag(f[i++], TAG.integer, 'serialNumber');
    if (serialT.end === serialT.body) throw new PkiError('malformed-der', 'empty serialNumber');
    signed.checkAlgorithm(f[i++]);
    const issuerT = f[i++];
    const issuer = readName(der, issuerT);
    const [nb, na, vx] = children(der, expectTag(f[i++], TAG.sequence, 'validity'));
    if (!nb || !na || vx) throw new PkiError('malformed-der', 'bad Validity');
    const subjectT = f[i++];
    const subject = readName(der, subjectT);
    const spki = bytesOf(der, expectTag(f[i++], TAG.sequence, 'subjectPublicKeyInfo'));
    if (f[i]?.tag === 0x81) i++;
    if (f[i]?.tag === 0x82) i++;
    let extensions: Extension[] = [];
    if (f[i]?.tag === 0xa3) extensions = readExplicitExtensions(der, f[i++], 'extensions');
    if (i !== f.length) throw new PkiError('malformed-der', 'unexpected fields in TBSCertificate');

    const find = (id: string) => extensions.find((e) => e.oid === id)?.value;
    const ski = find(OID.subjectKeyIdentifier);
    const aki = find(OID.authorityKeyIdentifier);
    const bc = find(OID.basicConstraints);
    const san = find(OID.subjectAltName);
    const isCa = bc ? readBasicConstraints(bc).ca : false;
    const emails = [
      ...(san ? readSubjectAltName(san) : []).filter((n) => n.type === 'email').map((n) => n.value),
      ...subject.filter((a) => a.type === 'E').map((a) => a.value),
    ];
    const serial = contentOf(der, serialT);
    return {
      der,
      tbs: bytesOf(der, tbsT),
      serial,
      serialHex: serialToHex(serial),
      issuer,
      issuerDer: bytesOf(der, issuerT),
      subject,
      subjectDer: bytesOf(der, subjectT),
      notBefore: readTime(der, nb),
      notAfter: readTime(der, na),
      publicKey: spki,
      signatureAlgorithm,
      signature: signed.signature,
      extensions,
      subjectKeyId:
        ski && contentOf(ski, expectTag(decodeDer(ski, ski.length), TAG.octetString, 'subjectKeyIdentifier')),
      authorityKeyId: aki && readAuthorityKeyId(aki),
      isCa,
      emails: [...new Set(emails)],
    };
  });
}

/** A certificate's fingerprint as "AB:CD:…". */
export function fingerprint(der: Uint8Array, hash: 'sha256' | 'sha1' = 'sha256'): string {
  const hex = createHash(hash).update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}
