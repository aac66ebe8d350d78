export {
  type Access,
  AuthError,
  type AuthErrorCode,
  type Authenticator,
  allows,
  type Grant,
  type Principal,
  ROLES,
  type Role,
} from './access.js';
export {
  defineRoute,
  InvalidRequestError,
  type RouteContext,
  type RouteDef,
  type RouteEntry,
  registerApiRoutes,
} from './route.js';

/** Where the JSON API lives. */
export const API_PREFIX = '/api/v1';
