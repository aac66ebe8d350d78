export {
  type AnchoredAppearance,
  type AnchorRequest,
  anchorAppearance,
  DEFAULT_SEAL_SIZE,
  MAX_IMAGE_WIDTH,
} from './anchor.js';
export type { AppearanceRect, SignatureAppearance } from './appearance.js';
export { type ChainResult, type ChainSources, validateChain } from './chain.js';
export type {
  Change,
  ChangeAnalysis,
  ChangeKind,
  DocMdpLevel,
  FieldLock,
  JudgedChange,
  LockFields,
} from './changes/index.js';
export {
  addDss,
  type DssAddition,
  readAllDss,
  readDss,
  type ValidationData,
  vriKey,
} from './dss.js';
export { PdfError, type PdfErrorCode } from './errors.js';
export { IncrementalUpdate, RawObject, type WrittenUpdate } from './incremental.js';
export {
  addValidationData,
  type ExtendOptions,
  type ExtendResult,
  extendPdf,
  type LtvLevel,
} from './ltv.js';
export {
  dict,
  name,
  PdfDict,
  PdfName,
  PdfReal,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from './objects.js';
export {
  type PadesCmsInput,
  padesCms,
  padesSignedAttributes,
  SIGNATURE_TIME_STAMP_OID,
  signPadesCms,
  type TimeStampCallback,
} from './pades.js';
export {
  type Box,
  type FieldInfo,
  type PageInfo,
  PdfDocument,
  type ReadOptions,
  type Revision,
  Revisions,
  type SignatureDictionary,
  type SignatureField,
} from './reader.js';
export {
  type CertificateSummary,
  type CheckStatus,
  FAILURE_REASONS,
  type FailureReason,
  INDETERMINATE_REASONS,
  type IndeterminateReason,
  type Reason,
  type RevocationReport,
  type SignatureReport,
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
export {
  accepted as revocationDataAccepted,
  type CertificateRevocation,
  checkPathRevocation,
  gatherValidationData,
  issuerPath,
  type PathRevocation,
  type RevocationEvidence,
  type RevocationSource,
} from './revocation.js';
export {
  type ByteRange,
  byteRangeDigest,
  completeSignature,
  type DigestTimeStampCallback,
  type DocumentTimeStampOptions,
  type PdfSigner,
  type PreparedSignature,
  prepareDocumentTimeStamp,
  prepareSignature,
  type SignatureOptions,
  type SignPdfOptions,
  signPdf,
  signPdfRevision,
  timeStampPdf,
} from './sign.js';
export { decodeText, encodeText, formatPdfDate, parsePdfDate } from './text.js';
export {
  findText,
  PageText,
  type TextBox,
  type TextSearchOptions,
  type TextWord,
} from './text-search.js';
export { verifyPdf } from './verify.js';
