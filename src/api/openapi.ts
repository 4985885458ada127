/**
 * OpenAPI 3.1 description of the agent API, generated from the zod schemas.
 */
import { z } from 'zod';
import { evaluateBody, SESSION_STATUSES, submitBody } from './schemas.ts';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: 'error', content: { 'application/json': { schema: errorSchema } } }]));

const json = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The document served at /openapi.json. */
export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Airlock agent API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: {
      '/v1/queries': {
        post: {
          summary: 'Submit SQL; 200 with the result when done within waitMs, 202 while pending, 403 when denied.',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              description: 'Same as the idempotencyKey body field; when both are sent they must be equal (else 400 IDEMPOTENCY_KEY_MISMATCH).',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(submitBody) } } },
          responses: { '200': json('finished'), '202': json('pending'), ...errors(400, 401, 403, 409, 413, 415, 503) },
        },
      },
      '/v1/queries/{id}': {
        get: {
          summary: 'Status, decision and (when succeeded) the first page of the result; long-polls with waitMs.',
          parameters: [idParam, { name: 'waitMs', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 120000 } }],
          responses: { '200': json('the query'), ...errors(400, 401, 404, 503) },
        },
      },
      '/v1/queries/{id}/results': {
        get: {
          summary: 'Page through a result.',
          parameters: [
            idParam,
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000 } },
          ],
          responses: { '200': json('a page'), ...errors(400, 401, 404, 409, 410, 503) },
        },
      },
      '/v1/queries/{id}/cancel': {
        post: { summary: 'Withdraw a query that has not finished.', parameters: [idParam], responses: { '200': json('the query'), ...errors(401, 404, 409) } },
      },
      '/v1/policy/evaluate': {
        post: {
          summary: 'Decide without running.',
          requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(evaluateBody) } } },
          responses: { '200': json('the decision'), ...errors(400, 401) },
        },
      },
      '/v1/sessions': {
        get: {
          summary:
            'Search session logs, newest first (reviewers: every session; agents: their own). Filters combine with AND; table= matches any suffix of a table or column name (CUSTOMERS.SSN).',
          parameters: [
            ...['agent', 'owner', 'approver', 'table', 'q', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
            { name: 'status', in: 'query', schema: { type: 'string', enum: [...SESSION_STATUSES] } },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
          ],
          responses: { '200': json('{sessions, nextCursor?, view}'), ...errors(400, 401, 403, 503) },
        },
      },
      '/v1/sessions/{id}': {
        get: {
          summary: "Replay a session: every event in order, with each event's hash checked.",
          parameters: [idParam],
          responses: { '200': json('{id, summary, integrity, partial, events, view}'), ...errors(400, 401, 404, 503) },
        },
      },
      '/healthz': { get: { security: [], responses: { '200': json('alive') } } },
      '/readyz': { get: { security: [], responses: { '200': json('ready'), '503': json('not ready') } } },
    },
  };
}
