import { X509Certificate } from 'node:crypto';
import { verifySignature } from './algorithms.js';
import type { ParsedCertificate } from './certificate.js';
import type { ParsedCrl } from './crl.js';
import {
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  readAscii,
  readBoolean,
  readOid,
  TAG,
  type Tlv,
} from './der.js';
import { keyIdentifier } from './extensions.js';
import { formatName } from './name.js';
import { issuerHashes, type ParsedOcspResponse } from './ocsp.js';
import { OID } from './oids.js';
import type { RevocationReason } from './revocation.js';

// Where a certificate's status is published (AIA, CDP) and whether an OCSP response or a CRL really
// speaks for it: signed by its issuer (or a responder the issuer delegated to), about this certificate.
// Freshness is the caller's policy; these checks only say what a piece of status data states.

/** What an authentic OCSP response or CRL states about one certificate. */
export interface StatusStatement {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Who signed it, for reports. */
  signer: string;
}

/** A statement, or why the data cannot speak for the certificate. */
export type StatusCheck = ({ ok: true } & StatusStatement) | { ok: false; problem: string };

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  !!a && !!b && Buffer.compare(a, b) === 0;

function uriNames(buf: Uint8Array, names: Tlv): string[] {
  return children(buf, names)
    .filter((n) => n.tag === 0x86)
    .map((n) => readAscii(contentOf(buf, n)));
}

const isHttp = (u: string) => /^https?:\/\//i.test(u);

/** The http(s) OCSP responder URLs of a certificate's authorityInfoAccess. */
export function ocspUrls(cert: ParsedCertificate): string[] {
  const v = cert.extensions.find((e) => e.oid === OID.authorityInfoAccess)?.value;
  if (!v) return [];
  const out: string[] = [];
  for (const ad of children(v, expectTag(decodeDer(v, v.length), TAG.sequence, 'authorityInfoAccess'))) {
    const [method, location] = children(v, expectTag(ad, TAG.sequence, 'AccessDescription'));
    const id = readOid(contentOf(v, expectTag(method, TAG.oid, 'accessMethod')));
    if (id === OID.ocsp && location?.tag === 0x86) out.push(readAscii(contentOf(v, location)));
  }
  return out.filter(isHttp);
}

/** The http(s) URLs in the fullNames of a certificate's cRLDistributionPoints. */
export function crlUrls(cert: ParsedCertificate): string[] {
  const v = cert.extensions.find((e) => e.oid === OID.crlDistributionPoints)?.value;
  return v ? distributionPointUris(v).filter(isHttp) : [];
}

/** URIs of every DistributionPoint's fullName in a CRLDistributionPoints value. */
function distributionPointUris(v: Uint8Array): string[] {
  const out: string[] = [];
  for (const dp of children(v, expectTag(decodeDer(v, v.length), TAG.sequence, 'CRLDistributionPoints'))) {
    const name = children(v, expectTag(dp, TAG.sequence, 'DistributionPoint')).find((t) => t.tag === 0xa0);
    const full = name && children(v, name).find((t) => t.tag === 0xa0);
    if (full) out.push(...uriNames(v, full));
  }
  return out;
}

/** Whether a certificate carries an extended key usage. */
function hasEku(cert: ParsedCertificate, eku: string): boolean {
  return new X509Certificate(cert.der).keyUsage?.includes(eku) ?? false;
}

/** Whether `issuer` signed `cert`. */
export function issuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!same(cert.issuerDer, issuer.subjectDer)) return false;
  try {
    return verifySignature(cert.signatureAlgorithm, issuer.publicKey, cert.tbs, cert.signature);
  } catch {
    return false;
  }
}

/** Whether a certificate's key is the one a ResponderID byKey names (SHA-1 of the key, or its SKI). */
function hasKeyId(cert: ParsedCertificate, keyId: Uint8Array): boolean {
  return same(keyIdentifier(cert.publicKey), keyId) || same(cert.subjectKeyId, keyId);
}

/** Why a certificate may not answer for the issuer's certificates (RFC 6960 §4.2.2.2), or undefined. */
export function delegationProblem(
  c: ParsedCertificate,
  issuer: ParsedCertificate,
  at: Date,
): string | undefined {
  const name = formatName(c.subject);
  if (!issuedBy(c, issuer))
    return `the responder certificate ${name} was not issued by the certificate's issuer`;
  if (!hasEku(c, OID.ekuOcspSigning))
    return `the responder certificate ${name} lacks the OCSPSigning extended key usage`;
  if (at < c.notBefore || at > c.notAfter) return `the responder certificate ${name} is not valid then`;
  return undefined;
}

/**
 * The certificate whose key signed an OCSP response: the issuer itself or a responder it delegated to,
 * the delegation valid at `at` (the response's production time is the usual choice).
 */
export function ocspResponderCertificate(
  r: ParsedOcspResponse,
  issuer: ParsedCertificate,
  parse: (der: Uint8Array) => ParsedCertificate,
  at: Date,
): { cert: ParsedCertificate } | { problem: string } {
  const named = (c: ParsedCertificate) =>
    r.responderKeyId ? hasKeyId(c, r.responderKeyId) : same(c.subjectDer, r.responderName);
  if (named(issuer)) return { cert: issuer };
  const candidates = r.certs.map((c) => parse(c)).filter(named);
  if (candidates.length === 0)
    return { problem: 'the response is signed by neither the issuer nor a responder it includes' };
  const problems = candidates.map((c) => delegationProblem(c, issuer, at));
  const i = problems.indexOf(undefined);
  return i < 0 ? { problem: problems[0]! } : { cert: candidates[i] };
}

/** The SingleResponse about `cert` issued by `issuer`, matched on the whole CertID. */
export function singleResponseFor(
  r: ParsedOcspResponse,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): ParsedOcspResponse['responses'][number] | undefined {
  return r.responses.find((s) => {
    const h = issuerHashes(issuer, s.certId.hashAlgorithm);
    return (
      s.serialHex === cert.serialHex &&
      same(s.certId.issuerNameHash, h.nameHash) &&
      same(s.certId.issuerKeyHash, h.keyHash)
    );
  });
}

/** What an OCSP response states about `cert`, once its signature, signer and CertID check out. */
export function ocspStatement(
  r: ParsedOcspResponse,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  parse: (der: Uint8Array) => ParsedCertificate,
): StatusCheck {
  if (r.status !== 'successful') return { ok: false, problem: `the responder answered ${r.status}` };
  const responder = ocspResponderCertificate(r, issuer, parse, r.producedAt ?? new Date(0));
  if ('problem' in responder) return { ok: false, problem: responder.problem };
  let verified = false;
  try {
    verified =
      !!r.tbs &&
      !!r.signatureAlgorithm &&
      !!r.signature &&
      verifySignature(r.signatureAlgorithm, responder.cert.publicKey, r.tbs, r.signature);
  } catch {
    verified = false;
  }
  const signer = formatName(responder.cert.subject);
  if (!verified) return { ok: false, problem: `the OCSP response signature does not verify with ${signer}` };
  const single = singleResponseFor(r, cert, issuer);
  if (!single)
    return { ok: false, problem: `the OCSP response does not answer for serial ${cert.serialHex}` };
  return {
    ok: true,
    status: single.status,
    revokedAt: single.revokedAt,
    reason: single.reason,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    signer,
  };
}

/** The issuingDistributionPoint's scope, or why Kyso cannot use such a CRL. */
function crlScopeProblem(crl: ParsedCrl, cert: ParsedCertificate): string | undefined {
  const idp = crl.extensions.find((e) => e.oid === OID.issuingDistributionPoint)?.value;
  if (!idp) return undefined;
  const fields = children(
    idp,
    expectTag(decodeDer(idp, idp.length), TAG.sequence, 'issuingDistributionPoint'),
  );
  const flag = (tag: number) => {
    const t = fields.find((f) => f.tag === tag);
    // [n] IMPLICIT BOOLEAN.
    return !!t && readBoolean(contentOf(idp, t));
  };
  if (fields.some((f) => f.tag === 0x83 || f.tag === 0xa3)) return 'the CRL covers only some reasons';
  if (flag(0x84)) return 'indirect CRLs are not supported';
  if (flag(0x85)) return 'the CRL covers only attribute certificates';
  if (flag(0x81) && cert.isCa) return 'the CRL covers only end-entity certificates';
  if (flag(0x82) && !cert.isCa) return 'the CRL covers only CA certificates';
  const dp = fields.find((f) => f.tag === 0xa0);
  const full = dp && children(idp, dp).find((t) => t.tag === 0xa0);
  if (full) {
    const names = uriNames(idp, full);
    const cdp = crlUrls(cert);
    if (!names.some((n) => cdp.includes(n)))
      return "the CRL's distribution point is not one the certificate names";
  }
  return undefined;
}

/** What a CRL states about `cert`, once it is shown to be a complete CRL of `issuer` covering it. */
export function crlStatement(
  crl: ParsedCrl,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): StatusCheck {
  const signer = formatName(issuer.subject);
  if (!same(crl.issuerDer, cert.issuerDer)) return { ok: false, problem: 'the CRL is from another issuer' };
  let verified = false;
  try {
    verified = verifySignature(crl.signatureAlgorithm, issuer.publicKey, crl.tbs, crl.signature);
  } catch {
    verified = false;
  }
  if (!verified) return { ok: false, problem: `the CRL signature does not verify with ${signer}` };
  if (crl.deltaBase !== undefined) return { ok: false, problem: 'a delta CRL is not complete on its own' };
  const scope = crlScopeProblem(crl, cert);
  if (scope) return { ok: false, problem: scope };
  const entry = crl.entries.find((e) => e.serialHex === cert.serialHex);
  return {
    ok: true,
    status: entry ? 'revoked' : 'good',
    revokedAt: entry?.revokedAt,
    reason: entry?.reason,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    signer,
  };
}

/** Adobe's adbe-revocationInfoArchival signed attribute (OID 1.2.840.113583.1.1.8). */
export const REVOCATION_INFO_ARCHIVAL_OID = '1.2.840.113583.1.1.8';

/** The CRLs and OCSP responses (DER) of an adbe-revocationInfoArchival attribute value. */
export function readRevocationInfoArchival(value: Uint8Array): { crls: Uint8Array[]; ocsps: Uint8Array[] } {
  const out = { crls: [] as Uint8Array[], ocsps: [] as Uint8Array[] };
  const items = (t: Tlv) => {
    const [seq] = children(value, t);
    return seq
      ? children(value, expectTag(seq, TAG.sequence, 'revocation values')).map((x) => bytesOf(value, x))
      : [];
  };
  for (const f of children(
    value,
    expectTag(decodeDer(value, value.length), TAG.sequence, 'RevocationInfoArchival'),
  )) {
    if (f.tag === 0xa0) out.crls.push(...items(f));
    else if (f.tag === 0xa1) out.ocsps.push(...items(f));
  }
  return out;
}
