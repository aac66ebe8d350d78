export { AuditCheckpointSchedule, makeAuditCheckpoint, writeCheckpoint } from './audit-checkpoint.js';
export {
  type Actor,
  CertificateAuthority,
  type ChangeRequest,
  type IssueRequest,
  type Issuer,
  publicUrls,
  type RenewRequest,
  type RevokeRequest,
  type StatusListener,
} from './authority.js';
export {
  type CeremonyOptions,
  type CeremonyResult,
  defaultCeremony,
  derivedNames,
  runCeremony,
} from './ceremony.js';
export { type CrlRequest, type IssuedCrl, issueCrl } from './crl.js';
export { CrlSchedule, type CrlScheduleEvents } from './crl-schedule.js';
export { CaError, type CaErrorCode } from './errors.js';
export { type CertificateAction, nextStatus } from './lifecycle.js';
export {
  type ImportedStatus,
  importRootStatus,
  isOffline,
  type PresignedItem,
  type PresignedOcsp,
  presignedExpiry,
  presignRootCrl,
  presignRootOcsp,
} from './offline-root.js';
export { PROFILE_NAMES, type Profile, type ProfileName } from './profiles.js';
export { allowedReasons, checkReason, type Requester } from './reasons.js';
