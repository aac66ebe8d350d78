import { createHash } from 'node:crypto';
import { readSpki } from '../algorithms.js';
import { type ParsedCertificate, parseCertificate } from '../certificate.js';
import {
  children,
  contentOf,
  decodeDer,
  expectTag,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  TAG,
  type Tlv,
} from '../der.js';
import { PkiError } from '../errors.js';
import type { Extension } from '../extensions.js';
import { OID } from '../oids.js';
import {
  type AnyGeneralName,
  type Name,
  rdnKey,
  readGeneralName,
  readGeneralNamesAt,
  readNameAt,
} from './names.js';

// A certificate with the extensions RFC 5280 path validation reads, parsed once.

export const POLICY_OID = {
  policyMappings: '2.5.29.33',
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  issuerAltName: '2.5.29.18',
  subjectDirectoryAttributes: '2.5.29.9',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
} as const;

/** Extensions this validator processes, or knows to be safe to accept when critical. */
const RECOGNIZED = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.crlDistributionPoints,
  OID.certificatePolicies,
  OID.extKeyUsage,
  OID.freshestCrl,
  OID.authorityInfoAccess,
  POLICY_OID.policyMappings,
  POLICY_OID.nameConstraints,
  POLICY_OID.policyConstraints,
  POLICY_OID.inhibitAnyPolicy,
  POLICY_OID.issuerAltName,
  POLICY_OID.subjectInfoAccess,
]);

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KU = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** A DistributionPointName: a full name, or one RDN relative to the CRL issuer (as its comparable key). */
export type DistributionPointName = { full: AnyGeneralName[] } | { relative: string };

/** One entry of cRLDistributionPoints. */
export interface DistributionPoint {
  name?: DistributionPointName;
  /** ReasonFlags as bits (1 << n for bit n); undefined means all reasons. */
  reasons?: number;
  crlIssuer?: AnyGeneralName[];
}

/** One GeneralSubtree's base (minimum and maximum are not used by RFC 5280 profiles). */
export type Subtree = AnyGeneralName;

/** A certificate and what path validation reads from it. */
export interface PathCertificate {
  /** A stable index within one validation, for caches. */
  id: number;
  cert: ParsedCertificate;
  fingerprint: string;
  subject: Name;
  issuer: Name;
  selfIssued: boolean;
  /** basicConstraints: undefined when the extension is absent. */
  basic?: { ca: boolean; pathLen?: number };
  /** keyUsage bits (1 << n), undefined when the extension is absent. */
  keyUsage?: number;
  /** certificatePolicies OIDs; undefined when the extension is absent. */
  policies?: string[];
  policyMappings?: { issuer: string; subject: string }[];
  requireExplicitPolicy?: number;
  inhibitPolicyMapping?: number;
  inhibitAnyPolicy?: number;
  permittedSubtrees?: Subtree[];
  excludedSubtrees?: Subtree[];
  altNames: AnyGeneralName[];
  distributionPoints?: DistributionPoint[];
  caIssuers: string[];
  /** Critical extensions this validator does not process. */
  unknownCritical: string[];
  /** Why an extension could not be read, when one could not. */
  badExtension?: string;
}

/** Reads a BIT STRING's named bits as 1 << n. */
export function readBits(buf: Uint8Array, t: Tlv): number {
  const { unusedBits, bytes } = readBitString(contentOf(buf, t));
  let v = 0;
  const n = Math.min(bytes.length * 8 - unusedBits, 30);
  for (let i = 0; i < n; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) v |= 1 << i;
  return v;
}

function smallInteger(buf: Uint8Array, t: Tlv): number {
  const v = readInteger(contentOf(buf, t));
  if (v < 0n) throw new PkiError('malformed-der', 'negative count');
  return v > 1000n ? 1000 : Number(v);
}

function top(value: Uint8Array, what: string): Tlv {
  return expectTag(decodeDer(value, value.length), TAG.sequence, what);
}

/** Reads a DistributionPointName ([0] in a DistributionPoint or an issuingDistributionPoint). */
export function readDistributionPointName(buf: Uint8Array, t: Tlv): DistributionPointName {
  const [choice, extra] = children(buf, t);
  if (!choice || extra) throw new PkiError('malformed-der', 'bad DistributionPointName');
  if (choice.tag === 0xa0) return { full: readGeneralNamesAt(buf, choice) };
  // nameRelativeToCRLIssuer: an implicitly tagged RDN SET.
  if (choice.tag === 0xa1) return { relative: rdnKey(buf, choice) };
  throw new PkiError('malformed-der', 'bad DistributionPointName');
}

function readDistributionPoints(value: Uint8Array): DistributionPoint[] {
  return children(value, top(value, 'cRLDistributionPoints')).map((dp) => {
    const out: DistributionPoint = {};
    for (const f of children(value, expectTag(dp, TAG.sequence, 'DistributionPoint'))) {
      if (f.tag === 0xa0) out.name = readDistributionPointName(value, f);
      else if (f.tag === 0x81) out.reasons = readBits(value, f);
      else if (f.tag === 0xa2) out.crlIssuer = readGeneralNamesAt(value, f);
      else throw new PkiError('malformed-der', 'bad DistributionPoint');
    }
    return out;
  });
}

function readSubtrees(buf: Uint8Array, t: Tlv): Subtree[] {
  return children(buf, t).map((st) => {
    const [base] = children(buf, expectTag(st, TAG.sequence, 'GeneralSubtree'));
    if (!base) throw new PkiError('malformed-der', 'empty GeneralSubtree');
    return readGeneralName(buf, base);
  });
}

function readExtension(p: PathCertificate, e: Extension): void {
  const v = e.value;
  switch (e.oid) {
    case OID.basicConstraints: {
      const fields = children(v, top(v, 'basicConstraints'));
      let i = 0;
      const ca = fields[i]?.tag === TAG.boolean ? readBoolean(contentOf(v, fields[i++])) : false;
      const pathLen = fields[i]?.tag === TAG.integer ? smallInteger(v, fields[i++]) : undefined;
      p.basic = { ca, pathLen };
      return;
    }
    case OID.keyUsage:
      p.keyUsage = readBits(v, expectTag(decodeDer(v, v.length), TAG.bitString, 'keyUsage'));
      return;
    case OID.certificatePolicies: {
      const oids = children(v, top(v, 'certificatePolicies')).map((info) => {
        const [id] = children(v, expectTag(info, TAG.sequence, 'PolicyInformation'));
        return readOid(contentOf(v, expectTag(id, TAG.oid, 'policyIdentifier')));
      });
      if (new Set(oids).size !== oids.length)
        throw new PkiError('malformed-der', 'a policy appears twice in certificatePolicies');
      p.policies = oids;
      return;
    }
    case POLICY_OID.policyMappings:
      p.policyMappings = children(v, top(v, 'policyMappings')).map((m) => {
        const [a, b] = children(v, expectTag(m, TAG.sequence, 'PolicyMapping'));
        return {
          issuer: readOid(contentOf(v, expectTag(a, TAG.oid, 'issuerDomainPolicy'))),
          subject: readOid(contentOf(v, expectTag(b, TAG.oid, 'subjectDomainPolicy'))),
        };
      });
      return;
    case POLICY_OID.policyConstraints:
      for (const f of children(v, top(v, 'policyConstraints'))) {
        if (f.tag === 0x80) p.requireExplicitPolicy = smallInteger(v, f);
        else if (f.tag === 0x81) p.inhibitPolicyMapping = smallInteger(v, f);
        else throw new PkiError('malformed-der', 'bad policyConstraints');
      }
      return;
    case POLICY_OID.inhibitAnyPolicy:
      p.inhibitAnyPolicy = smallInteger(
        v,
        expectTag(decodeDer(v, v.length), TAG.integer, 'inhibitAnyPolicy'),
      );
      return;
    case POLICY_OID.nameConstraints:
      for (const f of children(v, top(v, 'nameConstraints'))) {
        if (f.tag === 0xa0) p.permittedSubtrees = readSubtrees(v, f);
        else if (f.tag === 0xa1) p.excludedSubtrees = readSubtrees(v, f);
        else throw new PkiError('malformed-der', 'bad nameConstraints');
      }
      return;
    case OID.subjectAltName:
      p.altNames = readGeneralNamesAt(v, top(v, 'subjectAltName'));
      return;
    case OID.crlDistributionPoints:
      p.distributionPoints = readDistributionPoints(v);
      return;
    case OID.authorityInfoAccess:
      for (const ad of children(v, top(v, 'authorityInfoAccess'))) {
        const [method, location] = children(v, expectTag(ad, TAG.sequence, 'AccessDescription'));
        const m = readOid(contentOf(v, expectTag(method, TAG.oid, 'accessMethod')));
        const name = location && readGeneralName(v, location);
        if (m === OID.caIssuers && name?.kind === 'uri') p.caIssuers.push(name.value);
      }
      return;
  }
}

/** Reads what path validation needs from a certificate; undefined when it is not a certificate at all. */
export function pathCertificate(der: Uint8Array, id: number): PathCertificate | undefined {
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(der);
    // Path processing reads every key; one that is not a SubjectPublicKeyInfo makes no certificate.
    readSpki(cert.publicKey);
  } catch {
    return undefined;
  }
  const subject = readNameAt(cert.subjectDer, decodeDer(cert.subjectDer, cert.subjectDer.length));
  const issuer = readNameAt(cert.issuerDer, decodeDer(cert.issuerDer, cert.issuerDer.length));
  const p: PathCertificate = {
    id,
    cert,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    subject,
    issuer,
    selfIssued:
      subject.rdns.length === issuer.rdns.length && subject.rdns.every((r, i) => r === issuer.rdns[i]),
    altNames: [],
    caIssuers: [],
    unknownCritical: [],
  };
  for (const e of cert.extensions) {
    if (e.critical && !RECOGNIZED.has(e.oid)) p.unknownCritical.push(e.oid);
    try {
      readExtension(p, e);
    } catch (err) {
      p.badExtension ??= `extension ${e.oid} cannot be read: ${(err as Error).message}`;
    }
  }
  return p;
}
