import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

/** Liveness, readiness and (unless `metrics` is false: they are on the admin address) Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, s: Services, options: { metrics?: boolean } = {}): void {
  app.get('/healthz', { config: { service: 'health' }, schema: { hide: true } }, async () => ({
    status: 'ok',
  }));
  app.get('/readyz', { config: { service: 'health' }, schema: { hide: true } }, async (_request, reply) => {
    const r = await s.ready();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', checks: r.checks });
  });
  if (options.metrics === false) return;
  app.get('/metrics', { config: { service: 'metrics' }, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(s.metrics.registry.contentType).send(await s.metrics.registry.metrics());
  });
}
