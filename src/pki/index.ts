export {
  algorithmFitsKey,
  defaultSignatureAlgorithm,
  describeKey,
  type HashName,
  hashOf,
  KEY_SPECS,
  type KeyDescription,
  type KeySpec,
  keySpecOf,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
  signatureAlgorithmIdentifier,
  verifySignature,
  verifySignatureAsync,
} from './algorithms.js';
export {
  buildCertificate,
  type CertificateTemplate,
  fingerprint,
  type ParsedCertificate,
  parseCertificate,
  type SignFunction,
} from './certificate.js';
export {
  buildSignedData,
  CMS_OID,
  type CmsAttribute,
  findSignerCertificate,
  type ParsedSignedData,
  type ParsedSigner,
  parseSignedData,
  type SignedDataInput,
  type SignerInput,
  type SignerVerification,
  type SignerVerificationOptions,
  signingCertificateV2,
  verifySigner,
} from './cms.js';
export { buildCrl, type CrlEntry, type CrlTemplate, type ParsedCrl, parseCrl } from './crl.js';
export { type CertificationRequest, parseCsr, parseCsrAsync } from './csr.js';
export { PkiError } from './errors.js';
export { type Extension, ext, type GeneralName, type KeyUsageName, keyIdentifier } from './extensions.js';
export {
  type DistinguishedName,
  decodeName,
  encodeName,
  formatName,
  type NameAttribute,
  parseName,
} from './name.js';
export {
  buildOcspRequest,
  buildOcspResponse,
  type CertIdHash,
  issuerHashes,
  type OcspCertId,
  type OcspCertStatus,
  type OcspRequest,
  type OcspResponseInput,
  type OcspResponseStatus,
  ocspCertId,
  ocspErrorResponse,
  type ParsedOcspResponse,
  parseOcspRequest,
  parseOcspResponse,
  type SingleResponseInput,
} from './ocsp.js';
export { OID } from './oids.js';
export {
  type PathValidationCode,
  type PathValidationInput,
  type PathValidationResult,
  type PathValidationStatus,
  validatePath,
} from './path/index.js';
export { fromPem, toPem } from './pem.js';
export { parseRevocationReason, REVOCATION_REASON_CODES, type RevocationReason } from './revocation.js';
export {
  crlStatement,
  crlUrls,
  delegationProblem,
  issuedBy,
  ocspResponderCertificate,
  ocspStatement,
  ocspUrls,
  REVOCATION_INFO_ARCHIVAL_OID,
  readRevocationInfoArchival,
  type StatusCheck,
  type StatusStatement,
  singleResponseFor,
} from './revocation-status.js';
export { randomSerial, serialFromHex, serialToHex } from './serial.js';
export {
  buildTimeStampRequest,
  buildTimeStampResponse,
  buildTimeStampToken,
  type ParsedTimeStampResponse,
  type PkiFailure,
  parseTimeStampRequest,
  parseTimeStampResponse,
  parseTimeStampToken,
  type TimeStampInfo,
  type TimeStampRequest,
  type TimeStampTokenInput,
  timeStampRejection,
  tsaCertificateProblem,
  verifyTimeStampToken,
} from './tsp.js';
