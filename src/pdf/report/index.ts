// The verification report: its shape and reasons, and its rendering as text and as PDF.
export {
  type CertificateSummary,
  type CheckStatus,
  FAILURE_REASONS,
  type FailureReason,
  Findings,
  INDETERMINATE_REASONS,
  type IndeterminateReason,
  type Reason,
  type RevocationReport,
  type SignatureReport,
  summary,
  type TimeStampReport,
  type Verdict,
  type VerificationReport,
  type VerifyOptions,
  type Warning,
} from './report.js';
export { type ReportPdfOptions, renderReportPdf } from './report-pdf.js';
export {
  type Lang,
  phrase,
  type ReportContent,
  type ReportRow,
  renderReport,
  reportContent,
  type SignatureBlock,
  vietnamTime,
} from './report-text.js';
