import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { problemFor, sendProblem } from '../problem.js';
import { AuthError, type Authenticator, type Principal } from './access.js';
import { defineRoute, registerApiRoutes } from './route.js';

// A two-level tree (ministry → department) and principals chosen by a header: this file tests the
// route layer's own logic (declaration, validation, scope); src/auth tests the real credentials.
const PARENT: Record<string, string | null> = { ministry: null, dept: 'ministry', other: null };
const PEOPLE: Record<string, Principal> = {
  admin: {
    userId: '1',
    username: 'admin',
    displayName: 'A',
    grants: [{ role: 'ca-admin', orgId: null }],
    via: 'session',
    credentialId: 's1',
  },
  clerk: {
    userId: '2',
    username: 'clerk',
    displayName: 'C',
    grants: [{ role: 'clerk', orgId: 'ministry' }],
    via: 'token',
    credentialId: 't1',
  },
};
const auth: Authenticator = {
  async authenticate(request) {
    const who = request.headers['x-who'];
    if (who === 'ended') throw new AuthError('session-expired', 'the session has ended');
    return typeof who === 'string' ? (PEOPLE[who] ?? null) : null;
  },
  async within(orgId, ancestorId) {
    for (let o: string | null = orgId; o; o = PARENT[o] ?? null) if (o === ancestorId) return true;
    return false;
  },
};

async function app() {
  const a = Fastify();
  a.setErrorHandler((e, req, reply) => sendProblem(reply, problemFor(e, req.url)));
  const table = registerApiRoutes(
    a,
    '/api/v1',
    [
      defineRoute({
        method: 'GET',
        url: '/things/:org',
        summary: 'a thing of an organization',
        tags: ['test'],
        access: { roles: ['clerk'], scope: 'organization' },
        params: z.object({ org: z.string() }),
        async handler(ctx) {
          await ctx.requireScope(ctx.params.org);
          return { org: ctx.params.org, actor: ctx.actor() };
        },
      }),
      defineRoute({
        method: 'POST',
        url: '/admin',
        summary: 'installation-wide',
        tags: ['test'],
        access: { roles: ['ca-admin'], scope: 'installation' },
        body: z.object({ n: z.number().int().min(1) }),
        status: 201,
        async handler(ctx) {
          return { twice: ctx.body.n * 2 };
        },
      }),
    ],
    auth,
  );
  return { a, table };
}

describe('JSON API routes', () => {
  it('lists every route with its declared access', async () => {
    const { table } = await app();
    expect(table.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/things/:org',
      'POST /api/v1/admin',
    ]);
  });

  it('answers 401 without a credential, 403 without the role, 404 outside the scope', async () => {
    const { a } = await app();
    expect((await a.inject({ url: '/api/v1/things/dept' })).statusCode).toBe(401);
    const forbidden = await a.inject({
      method: 'POST',
      url: '/api/v1/admin',
      headers: { 'x-who': 'clerk' },
      payload: { n: 1 },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    const outside = await a.inject({ url: '/api/v1/things/other', headers: { 'x-who': 'clerk' } });
    expect(outside.statusCode).toBe(404);
    // Indistinguishable from an object that does not exist.
    expect(outside.json().code).toBe('not-found');
    const inside = await a.inject({ url: '/api/v1/things/dept', headers: { 'x-who': 'clerk' } });
    expect(inside.json()).toEqual({ org: 'dept', actor: 'token:clerk' });
    expect((await a.inject({ url: '/api/v1/things/dept', headers: { 'x-who': 'ended' } })).statusCode).toBe(
      401,
    );
  });

  it('validates bodies with zod and lists each problem', async () => {
    const { a } = await app();
    const bad = await a.inject({
      method: 'POST',
      url: '/api/v1/admin',
      headers: { 'x-who': 'admin' },
      payload: { n: 0 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('body.n');
    const ok = await a.inject({
      method: 'POST',
      url: '/api/v1/admin',
      headers: { 'x-who': 'admin' },
      payload: { n: 4 },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ twice: 8 });
  });
});
