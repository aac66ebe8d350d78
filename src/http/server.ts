import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { API_PREFIX, type RouteEntry, registerApiRoutes } from './api/index.js';
import { problemFor, sendProblem } from './problem.js';
import { answerClientError } from './raw-target.js';
import { healthRoutes } from './routes/health.js';
import { ocspFastPath, ocspRoutes } from './routes/ocsp.js';
import { publicationRoutes } from './routes/publication.js';
import { repositoryRoutes } from './routes/repository.js';
import { tsaRoutes } from './routes/tsa.js';
import type { Services } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The JSON API's live route table: what the authorization test walks. */
    apiRoutes: RouteEntry[];
  }
  interface FastifyContextConfig {
    /** The service a route belongs to, for metrics. */
    service?: string;
  }
}

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Log every request (off by default: OCSP traffic would drown the log). */
  logRequests?: boolean;
  version: string;
  /** False when /metrics is served on the admin address instead (admin.ts). */
  metrics?: boolean;
}

const TIMEOUTS = { connection: 30_000, request: 30_000, keepAlive: 10_000 };

/** The Kyso web server: trust services, the repository and the JSON API, with problem+json errors. */
export async function createServer(s: Services, options: ServerOptions): Promise<FastifyInstance> {
  // Fastify calls the server factory while it is built, before the app and its logger exist.
  let fastPath: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  let closing = false;
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: 64 * 1024,
    connectionTimeout: TIMEOUTS.connection,
    requestTimeout: TIMEOUTS.request,
    keepAliveTimeout: TIMEOUTS.keepAlive,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    trustProxy: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Fastify's own server, with OCSP's POST answered before Fastify when it can be (routes/ocsp.ts).
    serverFactory: (handler) => {
      const server = createHttpServer((req, res) => {
        if (closing || !fastPath?.(req, res)) handler(req, res);
      });
      // What Fastify sets on a server it makes itself.
      server.keepAliveTimeout = TIMEOUTS.keepAlive;
      server.requestTimeout = TIMEOUTS.request;
      server.setTimeout(TIMEOUTS.connection);
      return server;
    },
  });
  // Requests to be logged, and those during shutdown (503), go through Fastify.
  if (!options.logRequests) fastPath = ocspFastPath(s, app.log);
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  // The binary protocols take their bodies as bytes, whatever content type the client claims.
  app.addContentTypeParser(
    ['application/ocsp-request', 'application/timestamp-query', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Callback style: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    s.metrics.request(
      request.routeOptions.config?.service ?? 'other',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const p = problemFor(error, request.url);
    if (p.status >= 500 && p.status !== 503) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'urn:kyso:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: `no route ${request.method} ${request.url.split('?')[0]}`,
      instance: request.url,
      code: 'not-found',
    }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kyso API',
        version: options.version,
        description:
          'The JSON API of Kyso. The binary trust services are not JSON: OCSP (RFC 6960) at POST /ocsp and GET /ocsp/{request}, time-stamps (RFC 3161) at POST /tsa, CRLs at GET /crl/{caId}.crl and /crl/{caId}-delta.crl, CA certificates at GET /ca/{caId}.cer.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'kyso_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      tags: [
        {
          name: 'repository',
          description: 'The public certificate database (cơ sở dữ liệu về chứng thư số)',
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Every JSON API route declares its access (api/route.ts); one that does not is a bug caught at start.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(`${API_PREFIX}/`) && !route.config?.access) {
      throw new Error(`${route.method} ${route.url} declares no access`);
    }
  });
  healthRoutes(app, s, { metrics: options.metrics });
  ocspRoutes(app, s);
  tsaRoutes(app, s);
  publicationRoutes(app, s);
  repositoryRoutes(app, s);
  const apiRoutes = s.api ? registerApiRoutes(app, API_PREFIX, s.api.routes, s.api.authenticator) : [];
  app.decorate('apiRoutes', apiRoutes);
  return app;
}
