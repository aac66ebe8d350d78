// Signing: the PAdES CMS, the signature and time-stamp revisions, revocation data, the DSS and LTV extension.
export { addDss, type DssAddition, readAllDss, readDss, type ValidationData, vriKey } from './dss.js';
export { addValidationData, type ExtendOptions, type ExtendResult, extendPdf, type LtvLevel } from './ltv.js';
export {
  type PadesCmsInput,
  padesCms,
  padesSignedAttributes,
  SIGNATURE_TIME_STAMP_OID,
  signPadesCms,
  type TimeStampCallback,
} from './pades.js';
export {
  accepted,
  type CertificateRevocation,
  checkPathRevocation,
  gatherValidationData,
  issuerPath,
  type PathRevocation,
  type RevocationContext,
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
