import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

const CRL_NAME = /^([a-z0-9][a-z0-9-]{0,31}?)(-delta)?\.crl$/;
const CER_NAME = /^([a-z0-9][a-z0-9-]{0,31})\.cer$/;

/** CA certificates and CRLs as RFC 2585 publishes them: DER, with their media types. */
export function publicationRoutes(app: FastifyInstance, s: Services): void {
  app.get('/crl/:name', { config: { service: 'crl' } }, async (request, reply) => {
    const m = CRL_NAME.exec((request.params as { name: string }).name);
    if (!m) return reply.callNotFound();
    const crl = await s.repository.crl(m[1], m[2] ? 'delta' : 'full');
    const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000));
    return reply
      .header('content-type', 'application/pkix-crl')
      .header('cache-control', `max-age=${Math.min(maxAge, 3600)}, public, no-transform`)
      .header('last-modified', crl.thisUpdate.toUTCString())
      .header('expires', crl.nextUpdate.toUTCString())
      .header('etag', `"${crl.caId}-${crl.number}"`)
      .send(Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength));
  });

  app.get('/ca/:name', { config: { service: 'repository' } }, async (request, reply) => {
    const m = CER_NAME.exec((request.params as { name: string }).name);
    if (!m) return reply.callNotFound();
    const der = await s.repository.caCertificate(m[1]);
    return reply
      .header('content-type', 'application/pkix-cert')
      .header('cache-control', 'max-age=86400, public')
      .send(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  });
}
