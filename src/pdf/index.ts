export type { AppearanceRect, SignatureAppearance } from './appearance.js';
export { buildChain, type ChainResult } from './chain.js';
export { PdfError, type PdfErrorCode } from './errors.js';
export { IncrementalUpdate, RawObject, type WrittenUpdate } from './incremental.js';
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
  type SignatureReport,
  type TimeStampReport,
  type Verdict,
  type VerificationReport,
  type VerifyOptions,
  type Warning,
} from './report.js';
export { type Lang, phrase, renderReport, vietnamTime } from './report-text.js';
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
  timeStampPdf,
} from './sign.js';
export { decodeText, encodeText, formatPdfDate, parsePdfDate } from './text.js';
export { verifyPdf } from './verify.js';
