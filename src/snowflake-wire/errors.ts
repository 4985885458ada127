/**
 * Snowflake error codes the wire layer returns itself, for every back end (the
 * emulator's SQL layer returns its own through `Translation.error` and
 * `mapDuckDbError`; the gateway adds Airlock's in `gateway/codes.ts`).
 *
 * Codes are the ones Snowflake's servers send, because the driver switches on
 * some of them (390112 makes it renew the session token; 390104/390111 make it
 * drop the connection).
 */

/** Every code the wire layer emits, with its SQLSTATE and default message. */
export const WIRE_ERRORS = {
  INCORRECT_USERNAME_PASSWORD: { code: '390100', sqlState: '08004', message: 'Incorrect username or password was specified.' },
  JWT_TOKEN_INVALID: { code: '390144', sqlState: '08004', message: 'JWT token is invalid.' },
  OAUTH_TOKEN_INVALID: { code: '390303', sqlState: '08004', message: 'Invalid OAuth access token.' },
  OAUTH_TOKEN_EXPIRED: { code: '390318', sqlState: '08004', message: 'OAuth access token expired.' },
  SESSION_TOKEN_INVALID: { code: '390104', sqlState: '08004', message: 'User must login again to access the service.' },
  GONE_SESSION: { code: '390111', sqlState: '08004', message: 'Session no longer exists.  New login required to access the service.' },
  SESSION_TOKEN_EXPIRED: { code: '390112', sqlState: '08004', message: 'Your session has expired. Please login again.' },
  MASTER_TOKEN_EXPIRED: { code: '390114', sqlState: '08004', message: 'Authentication token has expired.  The user must authenticate again.' },
  BAD_REQUEST: { code: '390101', sqlState: '08004', message: 'The request could not be understood.' },
  QUERY_CANCELED: { code: '000604', sqlState: '57014', message: 'SQL execution canceled' },
  STATEMENT_TIMEOUT: { code: '000630', sqlState: '57014', message: 'Statement reached its statement or warehouse timeout and was canceled.' },
  NOT_EXECUTING: { code: '000605', sqlState: '01000', message: 'Identified SQL statement is not currently executing.' },
  STATEMENT_NOT_FOUND: { code: '000709', sqlState: '02000', message: 'Statement not found.' },
  OBJECT_DOES_NOT_EXIST: { code: '002043', sqlState: '02000', message: 'Object does not exist, or operation cannot be performed.' },
  BIND_MISMATCH: { code: '002049', sqlState: '22000', message: 'Bind variable count does not match the statement.' },
  INVALID_PARAMETER_VALUE: { code: '002018', sqlState: '22023', message: 'Invalid parameter value.' },
  INTERNAL: { code: '000603', sqlState: 'XX000', message: 'SQL execution internal error.' },
} as const;

/** Name of a wire-layer error. */
export type WireErrorName = keyof typeof WIRE_ERRORS;

/** A Snowflake-style error: HTTP 200, `success:false`, `code`, `message`, `data.sqlState`. */
export class SnowflakeWireError extends Error {
  readonly code: string;
  readonly sqlState: string;

  constructor(code: string, sqlState: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SnowflakeWireError';
    this.code = code;
    this.sqlState = sqlState;
  }

  /** Build one of the wire layer's own errors, optionally with a more specific message. */
  static of(name: WireErrorName, message?: string, options?: { cause?: unknown }): SnowflakeWireError {
    const def = WIRE_ERRORS[name];
    return new SnowflakeWireError(def.code, def.sqlState, message ?? def.message, options);
  }
}
