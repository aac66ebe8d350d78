export {
  type AuditEvent,
  AuditLog,
  type AuditProblem,
  type AuditVerification,
  auditHash,
  verifyAuditLog,
} from './audit.js';
