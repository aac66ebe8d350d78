import {
  crlStatement,
  crlUrls,
  formatName,
  issuedBy,
  ocspStatement,
  ocspUrls,
  type ParsedCertificate,
  parseCertificate,
  parseCrl,
  parseOcspResponse,
  type RevocationReason,
  type StatusStatement,
} from '../../pki/index.js';
import type { ValidationData } from './dss.js';

// Revocation status of a certificate path, from the evidence at hand: the document's DSS first, then what
// the CMS carries, then the services named in the certificates (through a RevocationSource, so that this
// module does no I/O). An OCSP response or CRL counts only when it is authentic, about the certificate,
// and fresh for the time that matters (see `accepted`).

/** Where status data comes from: fetches at the edge, parsing and judging here. */
export interface RevocationSource {
  /** An OCSP response (DER) about cert from its issuer's responder (AIA), or undefined when there is none. */
  ocsp(cert: Uint8Array, issuer: Uint8Array): Promise<Uint8Array | undefined>;
  /** The CRL (DER) at a distribution point URL, or undefined. */
  crl(url: string): Promise<Uint8Array | undefined>;
}

/** Where a status was found. */
export type RevocationEvidence = 'dss' | 'cms' | 'online';

/** One certificate's status, as the report shows it. */
export interface CertificateRevocation {
  subject: string;
  serialHex: string;
  status: 'good' | 'revoked' | 'on-hold' | 'unknown';
  source?: RevocationEvidence;
  kind?: 'ocsp' | 'crl';
  thisUpdate?: Date;
  nextUpdate?: Date;
  revokedAt?: Date;
  reason?: RevocationReason;
  /** Why the status could not be determined, or what else is worth knowing. */
  detail?: string;
}

/**
 * The status of a path: revoked (before the time that matters, or with no proof of time), on hold
 * (whenever the hold began), unknown for some certificate, or good for all — a certificate revoked
 * after a proven signing time counts as good, with revokedAfter set.
 */
export interface PathRevocation {
  status: 'good' | 'revoked' | 'on-hold' | 'unknown';
  /** The signer's (first certificate's) evidence. */
  source?: RevocationEvidence;
  certificates: CertificateRevocation[];
  /** Certificates revoked after the proven time. */
  revokedAfter: CertificateRevocation[];
}

/** What revocation checking uses. */
export interface RevocationContext {
  dss: ValidationData;
  cms: ValidationData;
  source?: RevocationSource;
  /** The proven time of the signature (its time-stamp's, or a time-stamp's own time), if any. */
  provenTime?: Date;
  /** The validation time. */
  now: Date;
  /** For time-stamping units: revocation after the proven time counts only without compromise. */
  tsa?: boolean;
}

// Clocks of CAs, responders and verifiers differ; RFC 5019 §4 asks for some allowance.
const SKEW_MS = 5 * 60_000;
const COMPROMISE: (RevocationReason | undefined)[] = [
  undefined,
  'unspecified',
  'keyCompromise',
  'caCompromise',
];

/**
 * Whether a statement may decide the status at time `at` (the proven time, else the validation time):
 * it is not from the future, and a "good" is issued at or after `at`, or was still current then (its
 * nextUpdate not passed). A revocation is final, so any authentic one is accepted. This follows the
 * freshness idea of EN 319 102-1 §5.2.5.4 with "max freshness" taken from the issuer's nextUpdate.
 */
export function accepted(s: StatusStatement, at: Date, now: Date): boolean {
  if (s.thisUpdate.getTime() > now.getTime() + SKEW_MS) return false;
  if (s.status === 'revoked') return true;
  if (s.status !== 'good') return false;
  if (s.thisUpdate.getTime() >= at.getTime() - SKEW_MS) return true;
  return !!s.nextUpdate && at.getTime() <= s.nextUpdate.getTime() + SKEW_MS;
}

function tryParse<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

const parseCert = (der: Uint8Array) => parseCertificate(der);

/** Statements about cert in a set of validation data, with why the rest did not count. */
function statementsIn(
  data: { ocsps: Uint8Array[]; crls: Uint8Array[] },
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): { found: (StatusStatement & { kind: 'ocsp' | 'crl' })[]; problems: string[] } {
  const found: (StatusStatement & { kind: 'ocsp' | 'crl' })[] = [];
  const problems: string[] = [];
  for (const der of data.ocsps) {
    const r = tryParse(() => parseOcspResponse(der));
    if (!r) continue;
    // Responses about other certificates are normal in a shared store: skip them silently.
    if (!r.responses.some((s) => s.serialHex === cert.serialHex)) continue;
    const s = tryParse(() => ocspStatement(r, cert, issuer, parseCert));
    if (s?.ok) found.push({ ...s, kind: 'ocsp' });
    else if (s) problems.push(`OCSP: ${s.problem}`);
  }
  for (const der of data.crls) {
    const crl = tryParse(() => parseCrl(der));
    if (!crl || Buffer.compare(crl.issuerDer, cert.issuerDer) !== 0) continue;
    const s = tryParse(() => crlStatement(crl, cert, issuer));
    if (s?.ok) found.push({ ...s, kind: 'crl' });
    else if (s) problems.push(`CRL: ${s.problem}`);
  }
  return { found, problems };
}

/** Online evidence for one certificate: an OCSP response from its AIA, or the first CRL its distribution points give. */
async function fetchOnline(
  source: RevocationSource,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  kind: 'ocsp' | 'crl',
  problems: string[],
): Promise<ValidationData> {
  const out: ValidationData = { certs: [], ocsps: [], crls: [] };
  if (kind === 'ocsp') {
    if (!ocspUrls(cert).length) return out;
    try {
      const r = await source.ocsp(cert.der, issuer.der);
      if (r) out.ocsps.push(r);
    } catch (e) {
      problems.push(`OCSP: ${(e as Error).message}`);
    }
    return out;
  }
  for (const url of crlUrls(cert)) {
    try {
      const c = await source.crl(url);
      if (c) {
        out.crls.push(c);
        break;
      }
    } catch (e) {
      problems.push(`CRL: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Decides one certificate's status from the first source whose evidence is conclusive. */
async function certificateStatus(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  ctx: RevocationContext,
): Promise<CertificateRevocation> {
  const base = { subject: formatName(cert.subject), serialHex: cert.serialHex };
  const at = ctx.provenTime ?? ctx.now;
  const problems: string[] = [];
  const sources: [RevocationEvidence, () => Promise<ValidationData> | ValidationData][] = [
    ['dss', () => ctx.dss],
    ['cms', () => ctx.cms],
  ];
  if (ctx.source) {
    const source = ctx.source;
    // The CRL only when OCSP gave nothing conclusive.
    sources.push(['online', () => fetchOnline(source, cert, issuer, 'ocsp', problems)]);
    sources.push(['online', () => fetchOnline(source, cert, issuer, 'crl', problems)]);
  }
  let stale = false;
  let seen = false;
  for (const [name, load] of sources) {
    const { found, problems: p } = statementsIn(await load(), cert, issuer);
    problems.push(...p);
    const usable = found.filter((s) => accepted(s, at, ctx.now));
    if (found.length > usable.length) stale = true;
    if (found.length || p.length) seen = true;
    const pick = usable.find((s) => s.status === 'revoked') ?? usable.find((s) => s.status === 'good');
    if (!pick) continue;
    const status =
      pick.status === 'revoked' ? (pick.reason === 'certificateHold' ? 'on-hold' : 'revoked') : 'good';
    return {
      ...base,
      status,
      source: name,
      kind: pick.kind,
      thisUpdate: pick.thisUpdate,
      nextUpdate: pick.nextUpdate,
      revokedAt: pick.revokedAt,
      reason: pick.reason,
    };
  }
  if (stale) problems.push(`no status data is fresh for ${at.toISOString()}`);
  if (!ocspUrls(cert).length && !crlUrls(cert).length)
    problems.push('the certificate names no OCSP responder or CRL');
  else if (!ctx.source && !seen) problems.push('no status data in the document and online checking is off');
  return { ...base, status: 'unknown', detail: problems.join('; ') || 'no status data found' };
}

/** Whether a revocation leaves the time-stamp or signature standing: after the proven time (and, for a TSA, without compromise). */
function revokedAfterProof(c: CertificateRevocation, ctx: RevocationContext): boolean {
  if (!ctx.provenTime || !c.revokedAt || c.revokedAt <= ctx.provenTime) return false;
  return !ctx.tsa || !COMPROMISE.includes(c.reason);
}

/** Checks every certificate of a path (leaf first, anchor last) but the anchor. */
export async function checkPathRevocation(
  path: Uint8Array[],
  ctx: RevocationContext,
): Promise<PathRevocation> {
  const certs = path.map(parseCert);
  const results: CertificateRevocation[] = [];
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!issuedBy(certs[i], certs[i + 1]))
      results.push({
        subject: formatName(certs[i].subject),
        serialHex: certs[i].serialHex,
        status: 'unknown',
        detail: 'the path is broken',
      });
    else results.push(await certificateStatus(certs[i], certs[i + 1], ctx));
  }
  // A hold is not final: it may be lifted or become a revocation, so it never counts as "after".
  const revokedAfter = results.filter((c) => c.status === 'revoked' && revokedAfterProof(c, ctx));
  const rest = results.filter((c) => !revokedAfter.includes(c));
  const status = rest.some((c) => c.status === 'revoked')
    ? 'revoked'
    : rest.some((c) => c.status === 'on-hold')
      ? 'on-hold'
      : rest.some((c) => c.status === 'unknown')
        ? 'unknown'
        : 'good';
  return { status, source: results[0]?.source, certificates: results, revokedAfter };
}

/**
 * Gathers validation data for a path (leaf first; the last certificate, the anchor, is not asked about):
 * for each certificate an OCSP response, else a CRL, as the services give them now, plus the path's
 * certificates and any OCSP responder certificates. Problems say what could not be had.
 */
export async function gatherValidationData(
  path: Uint8Array[],
  source: RevocationSource,
): Promise<{ data: ValidationData; problems: string[] }> {
  const certs = path.map(parseCert);
  const data: ValidationData = { certs: [...path], ocsps: [], crls: [] };
  const problems: string[] = [];
  for (let i = 0; i + 1 < certs.length; i++) {
    const p: string[] = [];
    const now = new Date();
    const usable = (d: ValidationData) =>
      statementsIn(d, certs[i], certs[i + 1]).found.filter((s) => accepted(s, now, now));
    let got = await fetchOnline(source, certs[i], certs[i + 1], 'ocsp', p);
    let found = usable(got);
    if (!found.length) {
      got = await fetchOnline(source, certs[i], certs[i + 1], 'crl', p);
      found = usable(got);
    }
    if (!found.length)
      problems.push(
        `no revocation status for ${formatName(certs[i].subject)}${p.length ? `: ${p.join('; ')}` : ''}`,
      );
    data.ocsps.push(...got.ocsps);
    data.crls.push(...got.crls);
    for (const der of got.ocsps) data.certs.push(...(tryParse(() => parseOcspResponse(der).certs) ?? []));
  }
  return { data, problems };
}

/** A path from leaf through the given certificates by issuer, up to a self-issued one or a dead end. */
export function issuerPath(leaf: Uint8Array, pool: Uint8Array[]): Uint8Array[] {
  const certs = pool.map((d) => tryParse(() => parseCert(d))).filter((c): c is ParsedCertificate => !!c);
  const path = [parseCert(leaf)];
  for (let depth = 0; depth < 8; depth++) {
    const current = path[path.length - 1];
    if (issuedBy(current, current)) break;
    const next = certs.find(
      (c) => !path.some((p) => Buffer.compare(p.der, c.der) === 0) && issuedBy(current, c),
    );
    if (!next) break;
    path.push(next);
  }
  return path.map((c) => c.der);
}
