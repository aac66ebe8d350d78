import { PkiError } from './errors.js';

/** RFC 5280 CRLReason names. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'caCompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** RFC 5280 CRLReason codes (7 is unused). */
export const REVOCATION_REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

const BY_LOWER = new Map<string, RevocationReason>(
  (Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]).map((r) => [r.toLowerCase(), r]),
);
const BY_CODE = new Map<number, RevocationReason>(
  (Object.entries(REVOCATION_REASON_CODES) as [RevocationReason, number][]).map(([r, c]) => [c, r]),
);

/** The reason for a CRLReason code, or undefined for an unknown code. */
export function reasonFromCode(code: number): RevocationReason | undefined {
  return BY_CODE.get(code);
}

/** Parses a reason name (any case) or its numeric code; PkiError('bad-reason') otherwise. */
export function parseRevocationReason(text: string): RevocationReason {
  const t = text.trim();
  const reason = /^\d{1,2}$/.test(t) ? BY_CODE.get(Number(t)) : BY_LOWER.get(t.toLowerCase());
  if (!reason)
    throw new PkiError(
      'bad-reason',
      `unknown revocation reason "${text}"; use one of ${[...BY_LOWER.values()].join(', ')}`,
    );
  return reason;
}
