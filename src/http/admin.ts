import Fastify, { type FastifyInstance } from 'fastify';
import { healthRoutes } from './routes/health.js';
import type { Services } from './services.js';

/**
 * The admin address: /metrics (with /healthz and /readyz) on a listener of its own, so
 * monitoring can stay on an internal network while the trust services face the public.
 */
export function createAdminServer(s: Services): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  healthRoutes(app, s);
  return app;
}
