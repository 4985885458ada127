/**
 * The real, unmodified snowflake-sdk pointed at Airlock's Snowflake-wire door
 * (not at the emulator): `accessUrl` is Airlock's URL, `authenticator: 'OAUTH'`
 * with the agent's OIDC access token.
 */
import snowflake from 'snowflake-sdk';
import type { Connection, ConnectionOptions, RowStatement, SnowflakeError } from 'snowflake-sdk';

snowflake.configure({ logLevel: 'OFF', additionalLogToConsole: false });

/** Connect the driver to Airlock at `url` with `token`; rejects with the driver's error. */
export function connectWire(url: string, token: string, options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const conn = snowflake.createConnection({
    accessUrl: url,
    account: 'airlock',
    authenticator: 'OAUTH',
    token,
    sfRetryMaxLoginRetries: 0,
    ...options,
  } as ConnectionOptions);
  return new Promise((resolve, reject) => conn.connect((err, c) => (err ? reject(err) : resolve(c))));
}

/** The driver's error, with the fields tests read. */
export type DriverError = SnowflakeError & { code?: string; sqlState?: string; data?: { queryId?: string } };

/** Run a statement and collect its rows (streamed when `stream`, so chunks are fetched as they are read). */
export function run(
  conn: Connection,
  sqlText: string,
  options: { binds?: unknown[]; onStatement?: (s: RowStatement) => void; asyncExec?: boolean; describeOnly?: boolean } = {},
): Promise<{ rows: Record<string, unknown>[]; stmt: RowStatement }> {
  return new Promise((resolve, reject) => {
    const stmt = conn.execute({
      sqlText,
      ...(options.binds ? { binds: options.binds as never } : {}),
      ...(options.asyncExec ? { asyncExec: true } : {}),
      ...(options.describeOnly ? { describeOnly: true } : {}),
      complete: (err: SnowflakeError | undefined, s: RowStatement, rows: unknown[] | undefined) =>
        err ? reject(err) : resolve({ rows: (rows ?? []) as Record<string, unknown>[], stmt: s }),
    } as never);
    options.onStatement?.(stmt);
  });
}

/** Run a statement that must fail; the driver's error. */
export async function runError(conn: Connection, sqlText: string, options: Parameters<typeof run>[2] = {}): Promise<DriverError> {
  try {
    await run(conn, sqlText, options);
  } catch (err) {
    return err as DriverError;
  }
  throw new Error(`expected "${sqlText}" to fail`);
}

/** Every row of a statement read through `streamRows()` (the driver fetches chunks as it goes). */
export function streamAll(stmt: RowStatement): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const rows: Record<string, unknown>[] = [];
    stmt
      .streamRows()
      .on('data', (row: Record<string, unknown>) => rows.push(row))
      .on('error', reject)
      .on('end', () => resolve(rows));
  });
}

/** Close a driver connection (the driver deletes its session). */
export function closeWire(conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => conn.destroy((err) => (err ? reject(err) : resolve())));
}
