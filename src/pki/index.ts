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
export { OID } from './oids.js';
export { fromPem, toPem } from './pem.js';
export { parseRevocationReason, REVOCATION_REASON_CODES, type RevocationReason } from './revocation.js';
export { randomSerial, serialFromHex, serialToHex } from './serial.js';
