import type { CertificateAuthority } from '../ca/index.js';
import type { Repository } from '../repository/index.js';
import type { TimeStampAuthority } from '../tsa/index.js';
import type { OcspResponder } from '../va/index.js';
import type { Authenticator, RouteDef } from './api/index.js';
import type { Metrics } from './metrics.js';

/** What the routes call: the services, never their internals. */
export interface Services {
  authority: CertificateAuthority;
  ocsp: OcspResponder;
  tsa?: TimeStampAuthority;
  repository: Repository;
  metrics: Metrics;
  /** The JSON API's routes and who calls them; without it only the public services are served. */
  api?: {
    // biome-ignore lint/suspicious/noExplicitAny: routes of any input types share one table
    routes: readonly RouteDef<any, any, any>[];
    authenticator: Authenticator;
  };
  /** Whether the database answers and the keys are loaded. */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}
