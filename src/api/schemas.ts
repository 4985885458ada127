/**
 * zod schemas of every request the API accepts; also the source of /openapi.json.
 */
import { z } from 'zod';

const label = z.string().min(1).max(256);

/** Body of POST /v1/queries. */
export const submitBody = z
  .object({
    sql: z.string().min(1, 'sql is required'),
    prompt: z.string().max(20_000).optional(),
    purpose: z.string().max(2_000).optional(),
    labels: z.record(z.string().min(1).max(64), label).refine((r) => Object.keys(r).length <= 20, 'at most 20 labels').optional(),
    waitMs: z.number().int().min(0).max(120_000).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();

/** Body of POST /v1/policy/evaluate. */
export const evaluateBody = z.object({ sql: z.string().min(1, 'sql is required') }).strict();

export const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'not a query id') });

export const queryWaitQuery = z.object({ waitMs: z.coerce.number().int().min(0).max(120_000).default(0) });

export const resultsQuery = z.object({
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
