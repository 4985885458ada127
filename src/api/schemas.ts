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

/** Statuses a session can be in (the audit log's view of DESIGN §1). */
export const SESSION_STATUSES = [
  'received',
  'pending_approval',
  'approved',
  'denied',
  'rejected',
  'expired',
  'cancelled',
  'running',
  'succeeded',
  'failed',
  'outcome_unknown',
] as const;

const isoTime = z
  .string()
  .max(64)
  .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 time such as 2026-11-16T00:00:00Z')
  .transform((s) => new Date(s));

const filter = (max: number) => z.string().trim().min(1).max(max).optional();

/** Query string of GET /v1/sessions. */
export const sessionsQuery = z
  .object({
    agent: filter(128),
    owner: filter(320),
    approver: filter(320),
    table: filter(512),
    status: z.enum(SESSION_STATUSES).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    q: filter(500),
    cursor: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict()
  // zod runs this check even when `from` or `to` failed their own (then they are still strings): compare only two dates.
  .refine((q) => !(q.from instanceof Date) || !(q.to instanceof Date) || q.from.getTime() <= q.to.getTime(), {
    message: 'from must not be after to',
    path: ['from'],
  });

export const sessionIdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'not a session id') });
