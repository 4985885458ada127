/**
 * Driver errors become WAREHOUSE_* AirlockErrors here, at the edge.
 */
import { AirlockError } from '../../errors.ts';
import { redactErrorText } from '../../masking/error-text.ts';

const AUTH_CODES = new Set(['390100', '390101', '390102', '390144', '390145', '390146', '390318', '394304']);
/** Driver network errors, and 407001/407002: the connection is (or was never) up. */
const NETWORK_CODES = new Set(['401001', '401002', '401003', '402001', '402002', '407001', '407002']);
const CANCELLED = '000604';
const TIMED_OUT = '000630';

/**
 * Map anything the driver throws to an Airlock code. A SQL error's text is
 * redacted against the statement (`context.sql`) here, at the edge: the
 * warehouse may quote values from the data in it (docs/masking.md), so the raw
 * text is not kept, not even as `cause`.
 */
export function mapDriverError(err: unknown, context: { aborted?: boolean; timedOut?: boolean; sql?: string } = {}): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = err as { code?: unknown; sqlState?: unknown; message?: unknown; data?: { queryId?: unknown } } | undefined;
  const code = e?.code === undefined || e.code === null ? '' : String(e.code);
  const sqlState = typeof e?.sqlState === 'string' ? e.sqlState : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'unknown warehouse error';
  const queryId = typeof e?.data?.queryId === 'string' ? { queryId: e.data.queryId } : {};
  if (context.timedOut || code === TIMED_OUT) {
    return new AirlockError('WAREHOUSE_TIMEOUT', 'The statement ran past its timeout and was cancelled in the warehouse.', { details: queryId, cause: err });
  }
  if (context.aborted || code === CANCELLED) {
    return new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.', { details: queryId, cause: err });
  }
  if (AUTH_CODES.has(code)) {
    return new AirlockError('WAREHOUSE_AUTH', `Airlock could not log in to the warehouse (Snowflake ${code}); check the service user and key.`, {
      details: { snowflakeCode: code },
      cause: err,
    });
  }
  if (NETWORK_CODES.has(code) || sqlState?.startsWith('08') || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|socket hang up/.test(message)) {
    return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse is unreachable right now; try again shortly.', {
      details: code ? { snowflakeCode: code } : {},
      cause: err,
    });
  }
  if (sqlState) {
    // Useful to the caller (compilation errors name its identifiers), but it can echo data: only what the agent sent stays.
    return new AirlockError('WAREHOUSE_SQL_ERROR', redactErrorText(message, { sql: context.sql ?? '' }), {
      details: { snowflakeCode: code, sqlState, ...queryId },
    });
  }
  return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse failed unexpectedly; try again shortly.', {
    details: code ? { snowflakeCode: code } : {},
    cause: err,
  });
}

/** The statement was cancelled by its caller. */
export function cancelledError(): AirlockError {
  return new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.');
}
