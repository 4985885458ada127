/**
 * The nesting bound the JSON body parser applies before JSON.parse: counts
 * arrays and objects, not brackets inside strings or after escapes.
 */
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/api/json-depth.ts';
import { bareApi } from '../support/bare-api.ts';

describe('nestsDeeperThan', () => {
  it.each([
    ['{}', 1, false],
    ['{}', 0, true],
    ['[[1]]', 2, false],
    ['[[[1]]]', 2, true],
    ['{"a":{"b":[1]}}', 3, false],
    ['{"a":{"b":[1]}}', 2, true],
    ['["[[[[[[["]', 1, false],
    ['["\\"[[[["]', 1, false],
    ['["\\\\",[[1]]]', 2, true],
    ['[1],[2],[3]', 1, false],
  ])('%s with at most %i levels → %s', (text, max, deeper) => {
    expect(nestsDeeperThan(text, max)).toBe(deeper);
  });
});

describe('the JSON body parser', () => {
  const app = bareApi({ mounts: [(server) => server.post('/v1/echo', async (request) => ({ got: typeof request.body }))] });

  it('refuses a body nested 50,000 deep with 400 INVALID_JSON before any route sees it', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(50_000)}${']'.repeat(50_000)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_JSON');
  });

  it('takes a body nested 200 deep', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(200)}${']'.repeat(200)}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: 'object' });
  });
});
