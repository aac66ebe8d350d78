import {
  type ParsedSignedData,
  parseSignedData,
  REVOCATION_INFO_ARCHIVAL_OID,
  readRevocationInfoArchival,
} from '../../pki/index.js';
import {
  Findings,
  type RevocationReport,
  type SignatureReport,
  type VerifyOptions,
} from '../report/index.js';
import {
  checkPathRevocation,
  type PathRevocation,
  type RevocationContext,
  readAllDss,
  type ValidationData,
} from '../sign/index.js';
import type { Revisions, SignatureField } from '../syntax/index.js';
import { definiteLengths } from '../syntax/index.js';

// The revocation step of verification, after the synchronous checks have found each trusted path: the
// signer's path against the signing time its time-stamp proves, and each time-stamping unit's path
// against its token's time. A revoked signer before that time (or with no proof of time) is invalid;
// a revoked TSA voids its time-stamp; what cannot be determined is indeterminate for signers and only
// a warning for time-stamping units (TT 15/2025 asks to warn when the status cannot be checked).

const EMPTY: ValidationData = { certs: [], ocsps: [], crls: [] };

/** Revocation data a CMS carries: its crls field and the adbe-revocationInfoArchival attribute. */
function cmsData(contents: Uint8Array | undefined): ValidationData {
  if (!contents) return EMPTY;
  let sd: ParsedSignedData;
  try {
    sd = parseSignedData(definiteLengths(contents).der);
  } catch {
    return EMPTY;
  }
  const out: ValidationData = { certs: [], ocsps: [], crls: [...sd.crls] };
  for (const v of sd.signers[0]?.attributes.get(REVOCATION_INFO_ARCHIVAL_OID) ?? []) {
    try {
      const a = readRevocationInfoArchival(v);
      out.crls.push(...a.crls);
      out.ocsps.push(...a.ocsps);
    } catch {
      // Unreadable archival data is no evidence; other sources may still decide.
    }
  }
  return out;
}

const time = (d: Date | undefined) => d?.toISOString() ?? '?';

function asReport(r: PathRevocation): RevocationReport {
  return { status: r.status, source: r.source, certificates: r.certificates };
}

/** Details for the certificates of a path whose status is not good. */
function details(r: PathRevocation, who: string): string[] {
  return r.certificates
    .filter((c) => c.status !== 'good' && !r.revokedAfter.includes(c))
    .map((c) =>
      c.status === 'unknown'
        ? `${who} revocation status of ${c.subject} cannot be determined: ${c.detail}`
        : `${who} certificate ${c.subject} was ${c.status === 'on-hold' ? 'put on hold' : 'revoked'} at ${time(c.revokedAt)}${c.reason ? ` (${c.reason})` : ''}`,
    );
}

/**
 * Checks revocation for every signature whose path is trusted and updates its report, reasons and
 * verdict in place. `fields` are the signed fields, in the order of `reports`; `known` is every
 * revision's DSS when the caller has read it already.
 */
export async function checkRevocations(
  revisions: Revisions,
  fields: SignatureField[],
  reports: SignatureReport[],
  options: VerifyOptions,
  known?: ValidationData,
): Promise<void> {
  let dss = known;
  const now = options.time ?? new Date();
  for (const [i, report] of reports.entries()) {
    const needed = report.chain.status === 'trusted' || report.timestamp?.chain === 'trusted';
    if (!needed || report.verdict === 'invalid') continue;
    const f = new Findings();
    for (const r of report.reasons) f.reasons.add(r);
    for (const w of report.warnings) f.warnings.add(w);
    f.details = [...report.details];
    try {
      dss ??= readAllDss(revisions);
      const base = {
        dss,
        cms: cmsData(fields[i].signature?.contents?.bytes),
        source: options.revocation,
        now,
      };
      await checkOne(report, f, base);
    } catch (e) {
      f.add('revocation-not-checked', `revocation could not be checked: ${(e as Error).message}`);
    }
    report.reasons = [...f.reasons];
    report.warnings = [...f.warnings];
    report.details = f.details;
    report.verdict = f.verdict;
  }
}

async function checkOne(
  report: SignatureReport,
  f: Findings,
  base: Omit<RevocationContext, 'provenTime' | 'tsa'>,
): Promise<void> {
  const ts = report.timestamp;
  let provenTime = report.signingTime;
  if (ts?.chain === 'trusted' && ts.path && ts.status === 'passed') {
    const r = await checkPathRevocation(ts.path, { ...base, provenTime: ts.genTime, tsa: true });
    ts.revocation = asReport(r);
    if (r.status === 'revoked') {
      // A document time-stamp is its own signer: it is invalid; a signature loses its proof of time.
      f.add(
        report.kind === 'document-timestamp' ? 'certificate-revoked' : 'timestamp-certificate-revoked',
        details(r, 'the time-stamping unit').join('; '),
      );
      provenTime = undefined;
    } else if (r.status !== 'good') {
      f.warnings.add('timestamp-revocation-unknown');
      f.details.push(...details(r, 'the time-stamping unit'));
    }
    if (report.kind === 'document-timestamp') report.revocation = ts.revocation;
  }
  if (report.kind !== 'signature' || report.chain.status !== 'trusted' || !report.chain.path) return;
  const r = await checkPathRevocation(report.chain.path, { ...base, provenTime });
  report.revocation = asReport(r);
  for (const c of r.revokedAfter) {
    f.warnings.add('revoked-after-signing');
    f.details.push(
      `${c.subject} was revoked at ${time(c.revokedAt)}, after the signing time ${time(provenTime)} the time-stamp proves`,
    );
  }
  const why = details(r, 'the signer').join('; ');
  if (r.status === 'revoked')
    f.add(
      'certificate-revoked',
      provenTime ? `${why}, before the signing time` : `${why}; no time-stamp proves an earlier signing time`,
    );
  else if (r.status === 'on-hold') f.add('certificate-on-hold', why);
  else if (r.status === 'unknown') f.add('revocation-unknown', why);
}
