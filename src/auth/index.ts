export {
  type AuditEvent,
  type AuditFilter,
  AuditLog,
  type AuditProblem,
  type AuditVerification,
  auditHash,
  readAuditLog,
  verifyAuditLog,
} from './audit.js';
export {
  AUDIT_KEY_SETTING,
  type AuditCheckpoint,
  type AuditKeySetting,
  auditKeyFingerprint,
  parseCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
