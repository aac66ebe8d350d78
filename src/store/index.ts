export { type Change, ChangeFeed, type ChangeFeedEvents, type ChangeFeedOptions } from './change-feed.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type {
  AuditRecord,
  CaRecord,
  CertificateQuery,
  CertificateRecord,
  CertificateStatus,
  CertificateStatusRecord,
  CrlRecord,
  OcspResponseRecord,
  RevokedEntry,
} from './records.js';
export { Store, StoreView } from './store.js';
