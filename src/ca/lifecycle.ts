import type { CertificateStatus } from '../store/index.js';
import { CaError } from './errors.js';

/** What can be done to an issued certificate. */
export type CertificateAction = 'revoke' | 'hold' | 'release' | 'renew' | 'change';

const TRANSITIONS: Record<CertificateStatus, Partial<Record<CertificateAction, CertificateStatus>>> = {
  active: { revoke: 'revoked', hold: 'hold', renew: 'active', change: 'revoked' },
  hold: { revoke: 'revoked', release: 'active' },
  revoked: {},
};

const REFUSALS: Record<CertificateStatus, string> = {
  active: 'it is active',
  hold: 'it is on hold (release it first)',
  revoked: 'it is already revoked',
};

/** The status a certificate moves to, or a CaError when the action is not allowed from its status. */
export function nextStatus(
  status: CertificateStatus,
  action: CertificateAction,
  serial: string,
): CertificateStatus {
  const next = TRANSITIONS[status][action];
  if (!next)
    throw new CaError('illegal-transition', `cannot ${action} certificate ${serial}: ${REFUSALS[status]}`);
  return next;
}
