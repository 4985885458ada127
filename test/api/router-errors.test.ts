/**
 * The router's own refusals come out in Airlock's error shape with a documented
 * code, never fastify's `{statusCode, code: 'FST_ERR_…'}`: a malformed
 * percent-encoding, an over-long id, an unknown route. Runs the real fastify
 * app through inject (no services are needed to reach these paths).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bareApi } from '../support/bare-api.ts';

const app = bareApi({
  mounts: [
    (server) => {
      server.get('/v1/echo/:id', async (request) => request.params);
    },
  ],
});
afterAll(() => app.close());

describe('router errors in the documented shape', () => {
  it.each([
    ['a malformed percent-encoding', '/v1/echo/%E0%A4%A', 400, 'BAD_REQUEST'],
    ['an id over 100 characters', `/v1/echo/${'a'.repeat(101)}`, 400, 'BAD_REQUEST'],
    ['an unknown route', '/v1/nothing-here', 404, 'NOT_FOUND'],
  ])('%s (%s) → %i %s', async (_name, url, status, code) => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    const body = res.json() as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(Object.keys(body)).toEqual(['error']);
    expect(res.body).not.toMatch(/FST_ERR|statusCode|at \w+ \(/);
  });

  it('an ordinary id of 100 characters still reaches its route', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/echo/${'a'.repeat(100)}` });
    expect(res.statusCode).toBe(200);
  });
});
