import { KysoError } from '../../errors.js';

/** The roles of `design.md`'s table "Who uses it"; the relying party is anonymous. */
export const ROLES = [
  'ca-admin',
  'ra-officer',
  'auditor',
  'managing-body',
  'clerk',
  'leader',
  'specialist',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * One role held over an organization subtree. `orgId: null` is the whole installation: the CA's own
 * staff (ca-admin, ra-officer, auditor) normally hold their roles so.
 */
export interface Grant {
  role: Role;
  orgId: string | null;
}

/** Who is calling: a logged-in user (cookie session) or an automation token. */
export interface Principal {
  userId: string;
  username: string;
  displayName: string;
  grants: readonly Grant[];
  via: 'session' | 'token';
  /** The session or token id, so that logout or revocation can end exactly this credential. */
  credentialId: string;
}

/**
 * What a route needs, declared beside its definition (route.ts):
 * - `public`: anyone, logged in or not;
 * - `installation`: one of `roles` held installation-wide (grant.orgId null);
 * - `organization`: one of `roles` held anywhere; the handler then checks the object it touches with
 *   `ctx.requireScope(orgId)`, which answers 404 for an object outside every matching grant's subtree.
 */
export type Access = { public: true } | { roles: readonly Role[]; scope: 'installation' | 'organization' };

/** Resolves the caller of a request and the organization tree; `src/auth` provides the real one. */
export interface Authenticator {
  /**
   * The principal of a request, or null when it carries no credential. Throws AuthError for a bad,
   * expired or ended credential, or a cookie-authenticated state-changing request without its CSRF token.
   */
  authenticate(request: import('fastify').FastifyRequest): Promise<Principal | null>;
  /** Whether `orgId` lies in the subtree rooted at `ancestorId` (an organization is in its own subtree). */
  within(orgId: string, ancestorId: string): Promise<boolean>;
}

export type AuthErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'out-of-scope'
  | 'csrf'
  | 'bad-credentials'
  | 'totp-required'
  | 'locked-out'
  | 'throttled'
  | 'disabled'
  | 'session-expired'
  | 'same-approver';

/** Refusals of the access layer; http/status.ts maps them (out-of-scope answers 404, never 403). */
export class AuthError extends KysoError<AuthErrorCode> {
  override name = 'AuthError';
}

/** Whether the principal satisfies a route's declaration, before any object is looked at. */
export function allows(access: Access, principal: Principal | null): boolean {
  if ('public' in access) return true;
  if (!principal) return false;
  return principal.grants.some(
    (g) => access.roles.includes(g.role) && (access.scope === 'organization' || g.orgId === null),
  );
}
