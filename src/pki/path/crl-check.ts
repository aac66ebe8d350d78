import { type ParsedCrl, parseCrl } from '../crl.js';
import { children, contentOf, decodeDer, expectTag, readBoolean, TAG, type Tlv } from '../der.js';
import { OID } from '../oids.js';
import {
  type DistributionPoint,
  type DistributionPointName,
  type PathCertificate,
  readBits,
  readDistributionPointName,
} from './certificate.js';
import {
  type AnyGeneralName,
  type Name,
  readGeneralNamesAt,
  readName,
  sameGeneralName,
  sameName,
} from './names.js';

// CRL processing, RFC 5280 §6.3: for each distribution point of a certificate, the CRLs whose issuer
// and scope cover it, each verified with a key whose own path is valid, with delta CRLs applied, until
// every reason is covered. Whether a CRL signer's path is valid is the caller's to say (it recurses).

const ALL_REASONS = 0x1fe; // ReasonFlags bits 1 (keyCompromise) to 8 (aACompromise)

const ISSUING_DISTRIBUTION_POINT = OID.issuingDistributionPoint;
const CERTIFICATE_ISSUER = '2.5.29.29';
const KNOWN_CRL_EXTENSIONS = new Set<string>([
  OID.authorityKeyIdentifier,
  OID.crlNumber,
  OID.deltaCrlIndicator,
  OID.issuingDistributionPoint,
  OID.freshestCrl,
  OID.authorityInfoAccess,
  '2.5.29.18', // issuerAltName
]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([OID.crlReason, '2.5.29.23', '2.5.29.24', CERTIFICATE_ISSUER]);

interface IssuingDistributionPoint {
  name?: DistributionPointName;
  onlyUser: boolean;
  onlyCa: boolean;
  onlyAttribute: boolean;
  reasons?: number;
  indirect: boolean;
  der: Uint8Array;
}

interface Revocation {
  issuer: Name;
  revokedAt: Date;
  reason?: string;
}

/** A CRL and what §6.3 reads from it, parsed once per validation. */
export interface CrlInfo {
  crl: ParsedCrl;
  issuer: Name;
  idp?: IssuingDistributionPoint;
  delta: boolean;
  /** Why the CRL cannot be used at all (unknown critical extensions), when it cannot. */
  unusable?: string;
  /** Revocations by serial, built on first use. */
  bySerial?: Map<string, Revocation[]>;
}

function readIdp(value: Uint8Array): IssuingDistributionPoint {
  const idp: IssuingDistributionPoint = {
    onlyUser: false,
    onlyCa: false,
    onlyAttribute: false,
    indirect: false,
    der: value,
  };
  const flag = (t: Tlv) => readBoolean(contentOf(value, t));
  for (const f of children(
    value,
    expectTag(decodeDer(value, value.length), TAG.sequence, 'issuingDistributionPoint'),
  )) {
    if (f.tag === 0xa0) idp.name = readDistributionPointName(value, f);
    else if (f.tag === 0x81) idp.onlyUser = flag(f);
    else if (f.tag === 0x82) idp.onlyCa = flag(f);
    else if (f.tag === 0x83) idp.reasons = readBits(value, f);
    else if (f.tag === 0x84) idp.indirect = flag(f);
    else if (f.tag === 0x85) idp.onlyAttribute = flag(f);
  }
  return idp;
}

/** Reads a CRL for §6.3; undefined when it is not a CRL. */
export function crlInfo(der: Uint8Array): CrlInfo | undefined {
  let crl: ParsedCrl;
  let issuer: Name;
  try {
    crl = parseCrl(der);
    issuer = readName(crl.issuerDer);
  } catch {
    return undefined;
  }
  const info: CrlInfo = { crl, issuer, delta: crl.deltaBase !== undefined };
  const unknown = crl.extensions
    .filter((e) => e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid))
    .map((e) => e.oid);
  const unknownEntry = crl.entries.some((e) =>
    e.extensions?.some((x) => x.critical && !KNOWN_ENTRY_EXTENSIONS.has(x.oid)),
  );
  if (unknown.length > 0) info.unusable = `the CRL has an unknown critical extension (${unknown.join(', ')})`;
  else if (unknownEntry) info.unusable = 'the CRL has an entry with an unknown critical extension';
  const idp = crl.extensions.find((e) => e.oid === ISSUING_DISTRIBUTION_POINT);
  if (idp) {
    try {
      info.idp = readIdp(idp.value);
    } catch {
      info.unusable ??= 'the CRL issuingDistributionPoint cannot be read';
    }
  }
  return info;
}

/** The revocations for a serial, with the issuer each entry belongs to (certificateIssuer, §5.3.3). */
function revocationsOf(info: CrlInfo, serialHex: string): Revocation[] {
  if (!info.bySerial) {
    const map = new Map<string, Revocation[]>();
    let issuer = info.issuer;
    for (const e of info.crl.entries) {
      const ci = info.idp?.indirect ? e.extensions?.find((x) => x.oid === CERTIFICATE_ISSUER) : undefined;
      if (ci) {
        const dn = readGeneralNamesAt(ci.value, decodeDer(ci.value, ci.value.length)).find(
          (n) => n.kind === 'dn',
        );
        if (dn?.kind === 'dn') issuer = dn.name;
      }
      const list = map.get(e.serialHex) ?? [];
      list.push({ issuer, revokedAt: e.revokedAt, reason: e.reason });
      map.set(e.serialHex, list);
    }
    info.bySerial = map;
  }
  return info.bySerial.get(serialHex) ?? [];
}

/** The names a DistributionPointName stands for; a relative name is under `relativeTo`. */
function fullNames(name: DistributionPointName, relativeTo: Name): AnyGeneralName[] {
  if ('full' in name) return name.full;
  return [{ kind: 'dn', name: { rdns: [...relativeTo.rdns, name.relative], emails: [] } }];
}

/** What finds and vouches for the key that signed a CRL. */
export interface CrlContext {
  at: Date;
  crls: CrlInfo[];
  /** A key that verifies `crl` and whose certificate's path is valid (with cRLSign), or why there is none. */
  signerKey(crl: CrlInfo, cert: PathCertificate): Promise<{ key: Uint8Array } | { problem: string }>;
  /** Whether `key` verifies `crl`'s signature. */
  verifies(crl: CrlInfo, key: Uint8Array): boolean;
}

/** The revocation status of `cert` at `at`, from the CRLs in `ctx`. */
export type CertificateStatus =
  | { status: 'good' }
  | { status: 'revoked'; reason: string; onHold: boolean }
  | { status: 'unknown'; reason: string };

/** §6.3.3 for one certificate. */
export async function crlStatus(cert: PathCertificate, ctx: CrlContext): Promise<CertificateStatus> {
  const points: DistributionPoint[] = cert.distributionPoints ?? [{}];
  const isCa = !!cert.basic?.ca;
  let mask = 0;
  const problems: string[] = [];
  for (const dp of points) {
    if (mask === ALL_REASONS) break;
    for (const info of ctx.crls) {
      if (mask === ALL_REASONS) break;
      if (info.delta) continue;
      // (b)(1) issuer.
      const dpIssuers = dp.crlIssuer?.flatMap((n) => (n.kind === 'dn' ? [n.name] : []));
      if (dpIssuers) {
        if (!dpIssuers.some((n) => sameName(n, info.issuer)) || !info.idp?.indirect) continue;
      } else if (!sameName(info.issuer, cert.issuer)) continue;
      // (b)(2) scope.
      const idp = info.idp;
      if (idp?.name) {
        const idpNames = fullNames(idp.name, info.issuer);
        const dpNames = dp.name
          ? fullNames(dp.name, dpIssuers?.[0] ?? cert.issuer)
          : (dp.crlIssuer ?? [{ kind: 'dn', name: cert.issuer } as AnyGeneralName]);
        if (!idpNames.some((a) => dpNames.some((b) => sameGeneralName(a, b)))) continue;
      }
      if (idp?.onlyUser && isCa) continue;
      if (idp?.onlyCa && !isCa) continue;
      if (idp?.onlyAttribute) continue;
      const interim = (idp?.reasons ?? ALL_REASONS) & (dp.reasons ?? ALL_REASONS) & ALL_REASONS;
      if ((interim & ~mask) === 0) continue;
      if (info.unusable) {
        problems.push(info.unusable);
        continue;
      }
      // (f)(g) the CRL's signer and signature.
      const signer = await ctx.signerKey(info, cert);
      if ('problem' in signer) {
        problems.push(signer.problem);
        continue;
      }
      // (a) currency, with a delta CRL when there is a current one for this CRL.
      const delta = currentDelta(info, signer.key, ctx);
      const current = !info.crl.nextUpdate || info.crl.nextUpdate >= ctx.at;
      if (!current && !delta) {
        problems.push('the CRL is out of date at the validation time');
        continue;
      }
      // (i)(j) status: the delta first, then the complete CRL.
      const inDelta = delta
        ? revocationsOf(delta, cert.cert.serialHex).find((r) => sameName(r.issuer, cert.issuer))
        : undefined;
      const entry =
        inDelta ?? revocationsOf(info, cert.cert.serialHex).find((r) => sameName(r.issuer, cert.issuer));
      if (entry && entry.reason !== 'removeFromCRL' && counts(entry, ctx.at))
        return {
          status: 'revoked',
          reason: `revoked on ${entry.revokedAt.toISOString()}${entry.reason ? ` (${entry.reason})` : ''}`,
          onHold: entry.reason === 'certificateHold',
        };
      mask |= interim;
    }
  }
  if (mask === ALL_REASONS) return { status: 'good' };
  return {
    status: 'unknown',
    reason: problems[0] ?? 'no CRL given covers the certificate',
  };
}

/** A revocation counts if it happened by the validation time, or if the key was compromised (backdating). */
function counts(r: Revocation, at: Date): boolean {
  return r.revokedAt <= at || r.reason === 'keyCompromise' || r.reason === 'cACompromise';
}

/** The newest current delta CRL for `base`, signed with the same key and of the same scope. */
function currentDelta(base: CrlInfo, key: Uint8Array, ctx: CrlContext): CrlInfo | undefined {
  if (base.crl.number === undefined) return undefined;
  const number = base.crl.number;
  const idp = base.idp?.der;
  let best: CrlInfo | undefined;
  for (const d of ctx.crls) {
    if (!d.delta || d.unusable || d.crl.deltaBase === undefined || d.crl.number === undefined) continue;
    if (!sameName(d.issuer, base.issuer) || d.crl.deltaBase > number || d.crl.number <= number) continue;
    const dIdp = d.idp?.der;
    if ((idp || dIdp) && !(idp && dIdp && Buffer.compare(idp, dIdp) === 0)) continue;
    if (d.crl.nextUpdate && d.crl.nextUpdate < ctx.at) continue;
    if (!ctx.verifies(d, key)) continue;
    if (!best || (best.crl.number ?? 0n) < d.crl.number) best = d;
  }
  return best;
}
