import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OcspAnswer } from '../../va/index.js';
import type { Services } from '../services.js';

const MAX_REQUEST = 64 * 1024;

/** OCSP over HTTP (RFC 6960 Appendix A, RFC 5019): POST /ocsp and GET /ocsp/{base64 request}. */
export function ocspRoutes(app: FastifyInstance, s: Services): void {
  const send = (reply: FastifyReply, a: OcspAnswer, get: boolean, ifNoneMatch?: string) => {
    s.metrics.ocspCache.inc({ result: a.cache });
    reply.header('content-type', 'application/ocsp-response');
    if (get && a.cacheable && a.nextUpdate && a.thisUpdate) {
      const maxAge = Math.max(0, Math.floor((a.nextUpdate.getTime() - Date.now()) / 1000));
      reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
      reply.header('last-modified', a.thisUpdate.toUTCString());
      reply.header('expires', a.nextUpdate.toUTCString());
      if (a.etag) reply.header('etag', a.etag);
      if (a.etag && ifNoneMatch === a.etag) return reply.code(304).send();
    } else {
      reply.header('cache-control', 'no-cache, no-store');
    }
    return reply.send(Buffer.from(a.der.buffer, a.der.byteOffset, a.der.byteLength));
  };

  app.post('/ocsp', { bodyLimit: MAX_REQUEST, config: { service: 'ocsp' } }, async (request, reply) => {
    const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    return send(reply, await s.ocsp.respond(body), false);
  });

  app.get('/ocsp/*', { config: { service: 'ocsp' } }, async (request, reply) => {
    const encoded = (request.params as { '*': string })['*'];
    const der = decodeGetRequest(encoded);
    return send(reply, await s.ocsp.respond(der), true, request.headers['if-none-match']);
  });
}

/** The GET form is base64 of the DER, URL-encoded; clients differ in which characters they escape. */
function decodeGetRequest(encoded: string): Uint8Array {
  if (encoded.length > (MAX_REQUEST * 4) / 3 + 64) return new Uint8Array(0);
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return new Uint8Array(0);
  }
  if (!/^[A-Za-z0-9+/=_-]*$/.test(text)) return new Uint8Array(0);
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
