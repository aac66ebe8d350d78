import type { FastifyReply, FastifyRequest } from 'fastify';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
}

const STATUS_BY_CODE: Record<string, number> = {
  'unknown-certificate': 404,
  'unknown-ca': 404,
  'illegal-transition': 409,
  conflict: 409,
  unavailable: 503,
  locked: 503,
  'not-initialized': 503,
  'migration-failed': 503,
  'wrong-pin': 503,
  'wrong-passphrase': 503,
  'token-not-found': 503,
  'device-error': 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  408: 'Request timeout',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Maps any error to a problem: typed Kyso errors by their code, Fastify's by their status. */
export function problemFor(error: unknown, instance?: string): Problem {
  const e = error as {
    code?: unknown;
    statusCode?: number;
    message?: string;
    validation?: unknown;
    name?: string;
  };
  let status = 500;
  let code = 'internal-error';
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) {
    status = e.statusCode;
    code = typeof e.code === 'string' ? e.code.toLowerCase() : 'http-error';
  } else if (typeof e?.code === 'string' && e.constructor !== Error) {
    // Kyso's typed errors (CaError, PkiError, StoreError, KeyError, ConfigError) carry a stable code.
    code = e.code as string;
    status = STATUS_BY_CODE[code] ?? 400;
  }
  return {
    type: `urn:kyso:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: status >= 500 && status !== 503 ? 'the server failed to handle the request' : e?.message,
    instance,
    code,
  };
}

/** Sends a problem as application/problem+json. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** A problem for this request. */
export function problem(request: FastifyRequest, status: number, code: string, detail: string): Problem {
  return {
    type: `urn:kyso:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: request.url,
    code,
  };
}
