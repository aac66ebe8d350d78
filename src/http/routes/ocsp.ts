import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { ocspErrorResponse } from '../../pki/index.js';
import type { OcspAnswer } from '../../va/index.js';
import type { Services } from '../services.js';

const MAX_REQUEST = 64 * 1024;
const RESPONSE_TYPE = 'application/ocsp-response';
// RFC 5019 §5: answers to POST are not for HTTP caches.
const NOT_CACHED = 'no-cache, no-store';

/** OCSP over HTTP (RFC 6960 Appendix A, RFC 5019): POST /ocsp and GET /ocsp/{base64 request}. */
export function ocspRoutes(app: FastifyInstance, s: Services): void {
  const send = (reply: FastifyReply, a: OcspAnswer, get: boolean, ifNoneMatch?: string) => {
    s.metrics.ocspAnswer(a.cache);
    reply.header('content-type', RESPONSE_TYPE);
    if (get && a.cacheable && a.nextUpdate && a.thisUpdate) {
      const maxAge = Math.max(0, Math.floor((a.nextUpdate.getTime() - Date.now()) / 1000));
      reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
      reply.header('last-modified', a.thisUpdate.toUTCString());
      reply.header('expires', a.nextUpdate.toUTCString());
      if (a.etag) reply.header('etag', a.etag);
      if (a.etag && ifNoneMatch === a.etag) return reply.code(304).send();
    } else {
      reply.header('cache-control', NOT_CACHED);
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

/**
 * POST /ocsp as OCSP clients send it (Content-Type application/ocsp-request, a Content-Length within
 * the limit), answered on the raw Node.js request: Fastify's per-request work (request and reply
 * objects, hooks, body parsing, the reply pipeline) costs more than a pre-signed answer, and OCSP is
 * most of a CA's traffic. Answer, headers, errors and metrics are the route's above, which takes
 * every other request: the function returns false for those.
 */
export function ocspFastPath(
  s: Services,
  log: FastifyBaseLogger,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const length = req.headers['content-length'];
    if (
      req.method !== 'POST' ||
      req.url !== '/ocsp' ||
      req.headers['content-type'] !== 'application/ocsp-request' ||
      length === undefined ||
      !(Number(length) <= MAX_REQUEST) ||
      req.headers['transfer-encoding'] !== undefined
    )
      return false;
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away before the end gets nothing: the socket is gone.
    req.on('end', () => {
      void answerPost(s, log, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), started);
    });
    return true;
  };
}

async function answerPost(
  s: Services,
  log: FastifyBaseLogger,
  res: ServerResponse,
  body: Buffer,
  started: number,
): Promise<void> {
  try {
    const a = await s.ocsp.respond(body);
    s.metrics.ocspAnswer(a.cache);
    res.writeHead(200, {
      'content-type': RESPONSE_TYPE,
      'cache-control': NOT_CACHED,
      'content-length': a.der.length,
    });
    res.end(a.der);
  } catch (error) {
    // The responder answers its own failures as OCSP; this is a fault past it. Still OCSP, never JSON.
    log.error({ err: error }, 'request failed');
    if (res.headersSent) res.destroy();
    else {
      const der = ocspErrorResponse('internalError');
      res.writeHead(200, {
        'content-type': RESPONSE_TYPE,
        'cache-control': NOT_CACHED,
        'content-length': der.length,
      });
      res.end(der);
    }
  }
  s.metrics.request('ocsp', 200, (performance.now() - started) / 1000);
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
