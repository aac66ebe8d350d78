// Certification path building and validation per RFC 5280 §6, with CRL processing (§6.3). Pure: the
// caller supplies certificates, CRLs and, optionally, a hook that fetches AIA caIssuers.

export type {
  PathValidationCode,
  PathValidationInput,
  PathValidationResult,
  PathValidationStatus,
} from './result.js';
export { validatePath } from './validate.js';
