import { CaError } from './errors.js';
import type { Profile } from './profiles.js';

const DAY = 86_400_000;

/** Now, rounded down to a whole second, as certificates carry it. */
export function wholeSecond(at: Date = new Date()): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

/**
 * The validity window of a new certificate. Asked-for days beyond the profile or the
 * issuer's own validity are refused; defaults are shortened to fit instead.
 */
export function newValidity(
  profile: Profile,
  issuerNotAfter: Date,
  now: Date,
  days?: number,
): { notBefore: Date; notAfter: Date } {
  checkDays(days, profile.maxValidityDays, `the ${profile.name} profile allows`);
  const notAfter = new Date(now.getTime() + (days ?? profile.defaultValidityDays) * DAY);
  return { notBefore: now, notAfter: fitIssuer(notAfter, issuerNotAfter, days !== undefined) };
}

/**
 * The validity window of a renewal: up to `maxRenewalDays` past the old certificate's end
 * (Decree 68: renewal extends by at most 3 years), never longer than a new certificate's.
 */
export function renewalValidity(
  profile: Profile,
  issuerNotAfter: Date,
  oldNotAfter: Date,
  now: Date,
  days?: number,
): { notBefore: Date; notAfter: Date } {
  checkDays(days, profile.maxRenewalDays, `a ${profile.name} renewal extends by`);
  let notAfter = new Date(oldNotAfter.getTime() + (days ?? profile.maxRenewalDays) * DAY);
  const longest = new Date(now.getTime() + profile.maxValidityDays * DAY);
  if (notAfter > longest) {
    if (days !== undefined) {
      throw new CaError(
        'bad-validity',
        `the renewed certificate would run past the ${profile.maxValidityDays}-day limit; ask for fewer days`,
      );
    }
    notAfter = longest;
  }
  return { notBefore: now, notAfter: fitIssuer(notAfter, issuerNotAfter, days !== undefined) };
}

/** Refuses asked-for days that are not a positive whole number or exceed `max`. */
function checkDays(days: number | undefined, max: number, limit: string): void {
  if (days === undefined) return;
  if (!Number.isInteger(days) || days < 1) {
    throw new CaError('bad-validity', `--days must be a positive whole number, got ${days}`);
  }
  if (days > max) throw new CaError('bad-validity', `${limit} at most ${max} days, ${days} asked`);
}

function fitIssuer(notAfter: Date, issuerNotAfter: Date, explicit: boolean): Date {
  if (notAfter <= issuerNotAfter) return notAfter;
  if (explicit) {
    throw new CaError(
      'bad-validity',
      `the certificate would outlive its issuing CA (valid until ${issuerNotAfter.toISOString()})`,
    );
  }
  return issuerNotAfter;
}
