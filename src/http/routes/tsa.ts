import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from '../problem.js';
import type { Services } from '../services.js';

/** The time-stamp protocol over HTTP (RFC 3161 §3.4): POST /tsa. */
export function tsaRoutes(app: FastifyInstance, s: Services): void {
  app.post('/tsa', { bodyLimit: 64 * 1024, config: { service: 'tsa' } }, async (request, reply) => {
    if (!s.tsa)
      return sendProblem(
        reply,
        problem(request, 503, 'no-tsa', 'this installation has no time-stamp authority'),
      );
    const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    const started = performance.now();
    const answer = await s.tsa.stamp(body);
    if (answer.granted) s.metrics.signing.observe({ service: 'tsa' }, (performance.now() - started) / 1000);
    return reply
      .header('content-type', 'application/timestamp-reply')
      .header('cache-control', 'no-store')
      .send(Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength));
  });
}
