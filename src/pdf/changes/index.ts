// The difference analysis: what changed after each signature, and what its DocMDP and FieldMDP allow.
export { analyseChanges, RevisionDiffs } from './analysis.js';
export type { Change, ChangeAnalysis, ChangeKind, JudgedChange } from './kinds.js';
export {
  collectTransforms,
  type DocMdpLevel,
  declareTransforms,
  type FieldLock,
  type LockFields,
  lockCovers,
  type MdpPolicy,
  policyAt,
  readFieldLock,
  readTransforms,
  type SignatureTransforms,
  type SignedTransforms,
  signedRevision,
} from './mdp.js';
export { type AllowRule, DiffPolicy, judge, type PolicyLevel } from './policy.js';
export { signaturesAfterLastRevision, trailingData } from './signed.js';
