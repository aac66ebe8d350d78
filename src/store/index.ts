export { StoreError } from './errors.js';
export type {
  AuditRecord,
  CaRecord,
  CertificateQuery,
  CertificateRecord,
  CertificateStatus,
  CrlRecord,
  RevokedEntry,
} from './records.js';
export { Store, StoreView } from './store.js';
