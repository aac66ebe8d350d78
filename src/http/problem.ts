import type { FastifyReply, FastifyRequest } from 'fastify';
import { KysoError } from '../errors.js';
import { InvalidRequestError } from './api/route.js';
import { httpStatusOf } from './status.js';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  /** Each input that failed validation (invalid-request). */
  errors?: readonly { path: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  408: 'Request timeout',
  500: 'Internal server error',
  503: 'Service unavailable',
};

// Seconds a client should wait before retrying after a 503: a database restart or failover.
export const RETRY_AFTER_SECONDS = 30;

/** Maps any error to a problem: typed Kyso errors by their code (status.ts), Fastify's by their status. */
export function problemFor(error: unknown, instance?: string): Problem {
  const e = error as { code?: unknown; statusCode?: number; message?: string };
  let status = 500;
  let code = 'internal-error';
  if (error instanceof KysoError) {
    // An object outside the caller's scope is reported exactly as one that does not exist.
    code = error.code === 'out-of-scope' ? 'not-found' : error.code;
    status = httpStatusOf(error);
  } else if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own refusals of a request (bad JSON, too large, wrong content type).
    status = e.statusCode;
    code = typeof e.code === 'string' ? e.code.toLowerCase() : 'http-error';
  }
  return {
    type: `urn:kyso:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    // A server-side failure is described, never quoted: drivers' messages name hosts and files.
    detail:
      status === 503
        ? 'the service is temporarily unavailable; try again later'
        : status >= 500
          ? 'the server failed to handle the request'
          : e?.message,
    instance,
    code,
    ...(error instanceof InvalidRequestError ? { errors: error.issues } : {}),
  };
}

/** Sends a problem as application/problem+json. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
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
