/**
 * Typed errors with stable string codes.
 *
 * Every failure that can cross a boundary (HTTP, CLI, job queue, Slack) is an
 * {@link AirlockError} with one of the codes below. Codes are part of the public
 * contract: agents and scripts switch on them, so never rename one. HTTP statuses
 * are decided here and nowhere else ({@link httpStatusFor}).
 */

/** Every stable error code Airlock emits. */
export type AirlockErrorCode =
  // request shape
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'VALIDATION_FAILED'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'SQL_INVALID'
  | 'SQL_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  // identity
  | 'AUTH_MISSING'
  | 'AUTH_MALFORMED'
  | 'AUTH_EXPIRED'
  | 'AUTH_NOT_YET_VALID'
  | 'AUTH_BAD_SIGNATURE'
  | 'AUTH_BAD_ISSUER'
  | 'AUTH_BAD_AUDIENCE'
  | 'AUTH_ALG_NOT_ALLOWED'
  | 'AUTH_INVALID'
  | 'AUTH_ISSUER_UNAVAILABLE'
  | 'FORBIDDEN'
  // policy and workflow
  | 'POLICY_DENIED'
  | 'POLICY_INVALID'
  | 'SQL_UNPARSEABLE'
  | 'SQL_TOO_COMPLEX'
  | 'NOT_SQL'
  | 'ANALYSIS_BUSY'
  | 'STATE_CONFLICT'
  | 'APPROVAL_EXPIRED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'IDEMPOTENCY_KEY_MISMATCH'
  | 'RESULT_EXPIRED'
  // warehouse
  | 'WAREHOUSE_AUTH'
  | 'WAREHOUSE_SQL_ERROR'
  | 'WAREHOUSE_TIMEOUT'
  | 'WAREHOUSE_UNAVAILABLE'
  | 'WAREHOUSE_CANCELLED'
  | 'RESULT_TOO_LARGE'
  // infrastructure
  | 'QUEUE_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'AUDIT_UNAVAILABLE'
  | 'SLACK_UNAVAILABLE'
  | 'SLACK_ERROR'
  | 'CONFIG_INVALID'
  | 'DEPENDENCY_MISSING'
  | 'INTERNAL';

/** Machine-readable extras; never raw SQL results or secrets. */
export type ErrorDetails = Record<string, unknown>;

/** Base class of every error Airlock raises on purpose. */
export class AirlockError extends Error {
  readonly code: AirlockErrorCode;
  readonly details: ErrorDetails;

  constructor(code: AirlockErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AirlockError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Narrowing helper: `isAirlockError(e, 'WAREHOUSE_TIMEOUT')`. */
export function isAirlockError(err: unknown, code?: AirlockErrorCode): err is AirlockError {
  return err instanceof AirlockError && (code === undefined || err.code === code);
}

const STATUS: Record<AirlockErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  BODY_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SQL_INVALID: 400,
  SQL_TOO_LARGE: 413,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RATE_LIMITED: 429,
  AUTH_MISSING: 401,
  AUTH_MALFORMED: 401,
  AUTH_EXPIRED: 401,
  AUTH_NOT_YET_VALID: 401,
  AUTH_BAD_SIGNATURE: 401,
  AUTH_BAD_ISSUER: 401,
  AUTH_BAD_AUDIENCE: 401,
  AUTH_ALG_NOT_ALLOWED: 401,
  AUTH_INVALID: 401,
  AUTH_ISSUER_UNAVAILABLE: 503,
  FORBIDDEN: 403,
  POLICY_DENIED: 403,
  POLICY_INVALID: 500,
  SQL_UNPARSEABLE: 400,
  SQL_TOO_COMPLEX: 400,
  NOT_SQL: 400,
  ANALYSIS_BUSY: 503,
  STATE_CONFLICT: 409,
  APPROVAL_EXPIRED: 409,
  IDEMPOTENCY_CONFLICT: 409,
  IDEMPOTENCY_KEY_MISMATCH: 400,
  RESULT_EXPIRED: 410,
  WAREHOUSE_AUTH: 502,
  WAREHOUSE_SQL_ERROR: 422,
  WAREHOUSE_TIMEOUT: 504,
  WAREHOUSE_UNAVAILABLE: 503,
  WAREHOUSE_CANCELLED: 409,
  RESULT_TOO_LARGE: 413,
  QUEUE_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  SLACK_UNAVAILABLE: 503,
  SLACK_ERROR: 502,
  CONFIG_INVALID: 500,
  DEPENDENCY_MISSING: 503,
  INTERNAL: 500,
};

/** Every {@link AirlockErrorCode}, for checks that the docs list them all (test/docs/codes.test.ts). */
export const AIRLOCK_ERROR_CODES = Object.keys(STATUS) as readonly AirlockErrorCode[];

/**
 * Codes a query's `error` can carry that are never HTTP errors: how a query
 * ended without a warehouse or Airlock failure. Written by the query and
 * approval services; listed in docs/api.md.
 */
export const QUERY_OUTCOME_CODES = [
  /** The agent withdrew the query before it ran. */
  'CANCELLED',
  /** A worker stopped while a write ran; it was not re-run, so whether it took effect is unknown. */
  'OUTCOME_UNKNOWN',
  /** An approver denied the query. */
  'APPROVAL_REJECTED',
  /** The policy's default database or schema changed after the query was decided; it was not run where it was not judged. */
  'NAMESPACE_CHANGED',
] as const;
/** A code that ends a query without being an HTTP error. */
export type QueryOutcomeCode = (typeof QUERY_OUTCOME_CODES)[number];

/**
 * `QueryRecord.error.code`: an {@link AirlockErrorCode} raised while the query
 * was handled (WAREHOUSE_*, QUEUE_UNAVAILABLE, AUDIT_UNAVAILABLE,
 * APPROVAL_EXPIRED, INTERNAL, …) or a {@link QueryOutcomeCode}.
 */
export type QueryErrorCode = AirlockErrorCode | QueryOutcomeCode;

/** The HTTP status for a code; the only place statuses are decided. */
export function httpStatusFor(code: AirlockErrorCode): number {
  return STATUS[code];
}

/** True for failures worth retrying with backoff (never used for writes blindly). */
export function isTransient(code: AirlockErrorCode): boolean {
  return (
    code === 'WAREHOUSE_UNAVAILABLE' ||
    code === 'QUEUE_UNAVAILABLE' ||
    code === 'STORE_UNAVAILABLE' ||
    code === 'ANALYSIS_BUSY' ||
    code === 'AUTH_ISSUER_UNAVAILABLE'
  );
}

/**
 * Turn anything thrown into an AirlockError. Unknown errors become `INTERNAL`
 * with a generic message: their text may hold secrets or stack details, so it is
 * kept only as `cause` (for logs), never shown to callers.
 */
export function asAirlockError(err: unknown): AirlockError {
  if (err instanceof AirlockError) return err;
  return new AirlockError('INTERNAL', 'An internal error occurred; the incident was logged.', { cause: err });
}

/** The wire shape of every API error (DESIGN §3). */
export interface ErrorBody {
  error: { code: AirlockErrorCode; message: string; details: ErrorDetails };
}

/** Serialize an error for HTTP; the single place that shapes error bodies. */
export function toErrorBody(err: AirlockError): ErrorBody {
  return { error: { code: err.code, message: err.message, details: err.details } };
}
