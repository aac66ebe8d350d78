import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { KysoError } from '../../errors.js';
import { type Access, AuthError, type Authenticator, allows, type Principal, type Role } from './access.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler gets: the validated inputs, the caller, and the scope check for the object it touches. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  request: FastifyRequest;
  reply: FastifyReply;
  /** Throws AuthError('out-of-scope') (404) unless a grant of the route's roles covers `orgId`. */
  requireScope(orgId: string): Promise<void>;
  /** The audit log's actor for a change made by this request: `user:NAME` or `token:NAME`. */
  actor(): string;
}

/**
 * One JSON API route: method, path, what it needs (`access`), the zod schemas that both validate the
 * request and describe it in OpenAPI, and the handler. Declaring access here is not optional: the route
 * table is what the authorization test walks.
 */
export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Under the API prefix, Fastify syntax: `/certificates/:serial`. */
  url: string;
  summary: string;
  tags: readonly string[];
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** A JSON body schema; routes taking bytes (a PDF, a CSR) set `raw` instead. */
  body?: z.ZodType<B>;
  /** Media types accepted as raw bytes (the body arrives as a Buffer), e.g. ['application/pdf']. */
  raw?: readonly string[];
  /** Largest body accepted, bytes (the server's default otherwise). */
  bodyLimit?: number;
  /** The success answer's schema, for OpenAPI only. */
  response?: z.ZodType;
  /** Success status, 200 unless given. */
  status?: number;
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Keeps a route's types inferred from its schemas. */
export function defineRoute<P = unknown, Q = unknown, B = unknown>(
  def: RouteDef<P, Q, B>,
): RouteDef<P, Q, B> {
  return def;
}

/** Inputs that do not match their schema: 400 with every issue listed. */
export class InvalidRequestError extends KysoError<'invalid-request'> {
  override name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super('invalid-request', message);
  }
}

/** One row of the live route table, for the authorization matrix and the OpenAPI roles. */
export interface RouteEntry {
  method: Method;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The access a JSON API route declared; every route under the API prefix must have one. */
    access?: Access;
  }
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new InvalidRequestError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function describeAccess(access: Access): string {
  if ('public' in access) return 'Public: no login needed.';
  const where =
    access.scope === 'installation' ? 'installation-wide' : 'within the object’s organization subtree';
  return `Roles: ${access.roles.join(', ')} (${where}).`;
}

/**
 * Registers API routes on a Fastify instance under `prefix`, with zod validation, the access check
 * before the handler, and OpenAPI schemas (Fastify's own validation is off for them: zod is the one
 * validator). Returns the routes' table.
 */
export function registerApiRoutes(
  app: FastifyInstance,
  prefix: string,
  // biome-ignore lint/suspicious/noExplicitAny: routes of any input types share one table
  routes: readonly RouteDef<any, any, any>[],
  auth: Authenticator,
): RouteEntry[] {
  const table: RouteEntry[] = [];
  for (const def of routes) {
    const url = `${prefix}${def.url}`;
    table.push({ method: def.method, url, access: def.access });
    const schema: Record<string, unknown> = {
      summary: def.summary,
      description: describeAccess(def.access),
      tags: [...def.tags],
      'x-kyso-access': def.access,
    };
    if (def.params) schema.params = jsonSchema(def.params, 'input');
    if (def.query) schema.querystring = jsonSchema(def.query, 'input');
    if (def.body) schema.body = jsonSchema(def.body, 'input');
    if (def.response) schema.response = { [def.status ?? 200]: jsonSchema(def.response, 'output') };
    if (!('public' in def.access)) schema.security = [{ session: [] }, { bearer: [] }];
    app.route({
      method: def.method,
      url,
      schema,
      bodyLimit: def.bodyLimit,
      config: { service: 'api', access: def.access },
      // zod validates (below); the JSON schemas are for the OpenAPI document only.
      validatorCompiler: () => () => true,
      serializerCompiler: () => (data) => JSON.stringify(data),
      handler: async (request, reply) => {
        const principal = await auth.authenticate(request);
        if (!allows(def.access, principal)) {
          throw principal
            ? new AuthError('forbidden', 'your roles do not allow this')
            : new AuthError('unauthenticated', 'log in first');
        }
        if (def.raw) {
          const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
          if (!def.raw.includes(type)) {
            throw new InvalidRequestError(`the body must be ${def.raw.join(' or ')}`, [
              { path: 'body', message: `content type ${type || '(none)'} is not accepted` },
            ]);
          }
        }
        const ctx: RouteContext<unknown, unknown, unknown> = {
          params: parse(def.params, request.params, 'params'),
          query: parse(def.query, request.query, 'query'),
          body: def.raw ? request.body : parse(def.body, request.body, 'body'),
          principal,
          request,
          reply,
          requireScope: async (orgId) => {
            if ('public' in def.access) return;
            const roles: readonly Role[] = def.access.roles;
            for (const g of principal?.grants ?? []) {
              if (!roles.includes(g.role)) continue;
              if (g.orgId === null || (await auth.within(orgId, g.orgId))) return;
            }
            throw new AuthError('out-of-scope', 'not found');
          },
          actor: () =>
            principal ? `${principal.via === 'token' ? 'token' : 'user'}:${principal.username}` : 'anonymous',
        };
        const result = await def.handler(ctx);
        if (def.status) reply.code(def.status);
        return result;
      },
    });
  }
  return table;
}
