import { type DistinguishedName, formatName, type ParsedCertificate } from '../../pki/index.js';
import type { DocMdpLevel, FieldLock, JudgedChange } from '../changes/index.js';
import type {
  ByteRange,
  CertificateRevocation,
  RevocationEvidence,
  RevocationSource,
} from '../sign/index.js';
import type { ReadOptions } from '../syntax/index.js';

// The shape of a verification report: per signature, what was checked and how it went, a verdict and
// the reasons for it. The CLI and the web app render it; its reason codes are stable keys for messages.

/** The verdict of ETSI EN 319 102-1: passed, failed, or not determinable with what is known. */
export type Verdict = 'valid' | 'invalid' | 'indeterminate';
/** How one check went; not-checked is never a pass. */
export type CheckStatus = 'passed' | 'failed' | 'not-checked';

/**
 * Why a signature is not valid. Failures (among them changes after signing that its policy does not
 * allow) make it invalid; the rest (chain, revocation, missing proof of time, unsupported algorithms)
 * make it indeterminate.
 */
export const FAILURE_REASONS = [
  'byte-range-malformed',
  'byte-range-outside-file',
  'byte-range-gap-not-contents',
  'byte-range-not-at-revision-end',
  'contents-missing',
  'contents-not-hex',
  'contents-trailing-bytes',
  'signature-dictionary-not-indirect',
  'signature-dictionary-compressed',
  'signature-dictionary-not-signed',
  'cms-malformed',
  'cms-not-detached',
  'cms-signer-count',
  'digest-mismatch',
  'signature-invalid',
  'certificate-key-usage',
  'certificate-not-valid-at-signing-time',
  'timestamp-invalid',
  'signature-unreadable',
  'certificate-revoked',
  'timestamp-certificate-revoked',
  'changes-not-allowed',
  'changes-unreadable',
] as const;

/** Why a signature is indeterminate: something could not be established, or is not checked yet. */
export const INDETERMINATE_REASONS = [
  'unsupported-sub-filter',
  'unsupported-digest-algorithm',
  'unsupported-cms',
  'certificate-expired-no-poe',
  'certificate-not-yet-valid',
  'chain-not-checked',
  'chain-untrusted',
  'timestamp-chain-not-checked',
  'timestamp-chain-untrusted',
  'revocation-not-checked',
  'revocation-unknown',
  'certificate-on-hold',
] as const;

/** A reason that makes a signature invalid. */
export type FailureReason = (typeof FAILURE_REASONS)[number];
/** A reason that makes a signature indeterminate. */
export type IndeterminateReason = (typeof INDETERMINATE_REASONS)[number];
/** Any reason a signature is not valid. */
export type Reason = FailureReason | IndeterminateReason;

/** Notes that do not change the verdict, e.g. a CMS that is valid but not PAdES baseline. */
export type Warning =
  | 'pades-signing-time-attribute'
  | 'pades-no-signing-certificate-v2'
  | 'not-pades-sub-filter'
  | 'claimed-time-outside-certificate-validity'
  | 'timestamp-revocation-unknown'
  | 'revoked-after-signing'
  | 'references-undefined-objects';

/** A certificate as the report shows it (TT 15/2025: issuer, signer, managing unit, validity period). */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  /** The subject's attributes, for the managing unit (O, OU) and the name (CN). */
  subjectAttributes: DistinguishedName;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  der: Uint8Array;
}

/** A signature time-stamp (B-T) or, for a document time-stamp, the token itself. */
export interface TimeStampReport {
  status: CheckStatus;
  genTime?: Date;
  tsa?: CertificateSummary;
  chain: 'trusted' | 'untrusted' | 'not-checked';
  /** The TSA's path to a trust anchor, when trusted. */
  path?: Uint8Array[];
  /** The TSA path's revocation status. */
  revocation?: RevocationReport;
  detail?: string;
}

/**
 * Revocation status of a certificate path: good (every certificate but the anchor, from the DSS, the CMS
 * or online), revoked, on hold, unknown (some status could not be determined), or not checked (no
 * trusted path to check).
 */
export interface RevocationReport {
  status: 'good' | 'revoked' | 'on-hold' | 'unknown' | 'not-checked';
  /** Where the signer's own status came from. */
  source?: RevocationEvidence;
  certificates?: CertificateRevocation[];
}

/** Everything checked about one signature or document time-stamp. */
export interface SignatureReport {
  field: string;
  kind: 'signature' | 'document-timestamp';
  verdict: Verdict;
  reasons: Reason[];
  warnings: Warning[];
  /** Human-readable details of failures, in English, for logs and the report's fine print. */
  details: string[];
  subFilter?: string;
  byteRange?: ByteRange;
  /** The end of the signed bytes. */
  signedBytes?: number;
  coversWholeFile: boolean;
  /** The 1-based revision the signed bytes end with, when they end at a revision boundary. */
  revision?: number;
  integrity: { byteRange: CheckStatus; digest: CheckStatus; signature: CheckStatus };
  digestAlgorithm?: string;
  signer?: CertificateSummary;
  /** Whether the signer certificate was valid at the signing time (the time-stamp's, else the validation time). */
  validAtSigningTime?: boolean;
  /** /M: what the signer claims, not proof. */
  claimedSigningTime?: Date;
  /** The time-stamp's time, when a valid one proves it. */
  signingTime?: Date;
  timestamp?: TimeStampReport;
  chain: { status: 'trusted' | 'untrusted' | 'not-checked'; path?: Uint8Array[]; detail?: string };
  /** The signer's path (a document time-stamp's: its TSA's); the TSA of a signature time-stamp is in timestamp. */
  revocation: RevocationReport;
  /** What changed in the revisions after this signature, each change judged by the signature's policy. */
  modifications: {
    status: 'none' | 'allowed' | 'disallowed' | 'unreadable' | 'not-checked';
    revisionsAfter: number;
    changes?: JudgedChange[];
  };
  /** When this signature certifies the document (DocMDP): the permission level it sets. */
  certification?: { level: DocMdpLevel };
  /** The form fields this signature locks (FieldMDP), when it locks any. */
  fieldLock?: FieldLock;
  name?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
}

/** The whole document's verification. */
export interface VerificationReport {
  verdict: Verdict;
  /** Document-level reasons: 'unreadable' or 'no-signatures'. */
  reasons: ('unreadable' | 'no-signatures')[];
  /** When the file could not be read: the PdfError code and message. */
  error?: { code: string; message: string };
  revisions: number;
  signatures: SignatureReport[];
  /** Signature fields nobody has signed yet. */
  unsignedFields: string[];
}

/** What verification checks against. */
export interface VerifyOptions {
  /** Trust anchors (DER); without them chains are not checked and verdicts stay indeterminate. */
  trustAnchors?: Uint8Array[];
  /** Extra certificates for building chains (intermediates not embedded). */
  certificates?: Uint8Array[];
  /** The validation time (default now). */
  time?: Date;
  read?: ReadOptions;
  /** Where to ask for revocation status the document does not hold (OCSP, CRLs); without it, offline. */
  revocation?: RevocationSource;
  /** Fetches the certificates at an AIA caIssuers URL for paths the document cannot complete; without it, offline. */
  fetchIssuers?: (url: string) => Promise<Uint8Array[]>;
}

/** Collects a signature's findings as it is checked. */
export class Findings {
  reasons = new Set<Reason>();
  warnings = new Set<Warning>();
  details: string[] = [];

  add(reason: Reason, detail?: string): void {
    this.reasons.add(reason);
    if (detail) this.details.push(detail);
  }

  get verdict(): Verdict {
    const reasons = [...this.reasons];
    if (reasons.some((r) => (FAILURE_REASONS as readonly string[]).includes(r))) return 'invalid';
    return reasons.length ? 'indeterminate' : 'valid';
  }
}

/** A certificate as the report shows it. */
export function summary(cert: ParsedCertificate): CertificateSummary {
  return {
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    subjectAttributes: cert.subject,
    serialHex: cert.serialHex,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    der: cert.der,
  };
}
