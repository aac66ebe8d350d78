export { createAdminServer } from './admin.js';
export { Metrics } from './metrics.js';
export { checkReadiness, type Readiness } from './readiness.js';
export { createServer, type ServerOptions } from './server.js';
export type { Services } from './services.js';
