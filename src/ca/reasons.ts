import type { RevocationReason } from '../pki/index.js';
import { CaError } from './errors.js';

/** Who asks for a revocation: the RA officer acting for the CA, or a managing body's request (Mẫu 05). */
export type Requester = 'ra-officer' | 'managing-body';

// certificateHold and removeFromCRL are states, reached through hold and release, not reasons to give.
const OFFICER_REASONS: ReadonlySet<RevocationReason> = new Set([
  'unspecified',
  'keyCompromise',
  'caCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
]);

// A managing body speaks for its subscriber's circumstances, never for the CA's own key or privileges.
const MANAGING_BODY_REASONS: ReadonlySet<RevocationReason> = new Set([
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
]);

/** The reasons a requester may give when revoking. */
export function allowedReasons(requester: Requester): RevocationReason[] {
  return [...(requester === 'ra-officer' ? OFFICER_REASONS : MANAGING_BODY_REASONS)];
}

/** Throws unless the requester may revoke for this reason. */
export function checkReason(reason: RevocationReason, requester: Requester): void {
  if (reason === 'certificateHold') {
    throw new CaError('reason-not-allowed', 'certificateHold is not a revocation reason: use hold');
  }
  if (reason === 'removeFromCRL') {
    throw new CaError('reason-not-allowed', 'removeFromCRL is not a revocation reason: use release');
  }
  if (!allowedReasons(requester).includes(reason)) {
    throw new CaError('reason-not-allowed', `a ${requester} may not revoke with reason ${reason}`);
  }
}
