import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from '../problem.js';
import type { Services } from '../services.js';

const certificateSchema = {
  type: 'object',
  properties: {
    serial: { type: 'string', description: 'upper-case hex, as openssl x509 -serial prints it' },
    caId: { type: 'string' },
    profile: { type: 'string', enum: ['individual', 'organization', 'device', 'tsa', 'ocsp', 'subca'] },
    status: { type: 'string', enum: ['active', 'hold', 'revoked', 'expired'] },
    subject: { type: 'string' },
    commonName: { type: 'string' },
    organization: { type: ['string', 'null'] },
    email: { type: ['string', 'null'] },
    notBefore: { type: 'string', format: 'date-time' },
    notAfter: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    revocationReason: { type: ['string', 'null'] },
    fingerprint: { type: 'string', description: 'SHA-256 of the DER certificate' },
    links: { type: 'object', properties: { cer: { type: 'string' }, pem: { type: 'string' } } },
  },
} as const;

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
} as const;

const SERIAL = /^([0-9A-Fa-f:]{1,64}?)(\.cer|\.pem)?$/;

/** The public certificate database: JSON search and details, DER and PEM downloads. */
export function repositoryRoutes(app: FastifyInstance, s: Services): void {
  app.get(
    '/repository/certificates',
    {
      config: { service: 'repository' },
      schema: {
        tags: ['repository'],
        summary: 'Search certificates by name, e-mail, organization or serial',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: {
              type: 'string',
              maxLength: 200,
              description: 'start of the name (accents and case ignored), e-mail or serial',
            },
            org: {
              type: 'string',
              maxLength: 200,
              description: 'start of the organization (O), accents and case ignored',
            },
            status: { type: 'string', enum: ['active', 'hold', 'revoked', 'expired'] },
            profile: {
              type: 'string',
              enum: ['individual', 'organization', 'device', 'tsa', 'ocsp', 'subca'],
            },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            offset: { type: 'integer', minimum: 0, maximum: 10000, default: 0 },
          },
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: certificateSchema } } },
          400: problemSchema,
        },
      },
    },
    async (request) => {
      const q = request.query as {
        q?: string;
        org?: string;
        status?: 'active';
        profile?: string;
        limit: number;
        offset: number;
      };
      return {
        items: await s.repository.search({
          text: q.q,
          organization: q.org,
          status: q.status,
          profile: q.profile,
          limit: q.limit,
          offset: q.offset,
        }),
      };
    },
  );

  app.get(
    '/repository/certificates/:serial',
    {
      config: { service: 'repository' },
      schema: {
        tags: ['repository'],
        summary: 'One certificate: JSON details, or the certificate itself with .cer (DER) or .pem',
        params: {
          type: 'object',
          properties: { serial: { type: 'string', maxLength: 80 } },
          required: ['serial'],
        },
        response: { 200: certificateSchema, 404: problemSchema },
      },
    },
    async (request, reply) => {
      const m = SERIAL.exec((request.params as { serial: string }).serial);
      if (!m)
        return sendProblem(reply, problem(request, 400, 'bad-serial', 'a serial number is hexadecimal'));
      const record = await s.repository.certificate(m[1]);
      if (m[2] === '.cer') {
        return reply.type('application/pkix-cert').send(Buffer.from(record.der));
      }
      if (m[2] === '.pem') {
        return reply.type('application/x-pem-file').send(s.repository.pem(record));
      }
      return s.repository.present(record);
    },
  );
}
