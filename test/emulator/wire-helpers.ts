/**
 * Helpers for the wire tests: the real snowflake-sdk driver against a real
 * emulator on a random port. No mocks.
 */
import { generateKeyPairSync } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { Connection, ConnectionOptions, RowStatement, SnowflakeError } from 'snowflake-sdk';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.ts';

snowflake.configure({ logLevel: 'OFF', additionalLogToConsole: false });

export const ACCOUNT = 'EMU';
export const USER = 'agent_user';
export const PASSWORD = 'correct horse battery staple';

/** A fresh RSA key pair as PEM strings. */
export function rsaKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Start an emulator with the test user and the given extras. */
export function emulator(extra: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({ account: ACCOUNT, user: USER, password: PASSWORD, port: 0, ...extra });
}

/** Connect the real driver; rejects with the driver's error. */
export function connect(emu: Emulator, options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const conn = snowflake.createConnection({
    accessUrl: emu.url,
    account: ACCOUNT,
    username: USER,
    password: PASSWORD,
    sfRetryMaxLoginRetries: 0,
    ...options,
  } as ConnectionOptions);
  return new Promise((resolve, reject) => conn.connect((err, c) => (err ? reject(err) : resolve(c))));
}

/** Run a statement and collect its rows. */
export function exec(
  conn: Connection,
  sqlText: string,
  options: {
    binds?: unknown[];
    onStatement?: (s: RowStatement) => void;
    parameters?: Record<string, unknown>;
    fetchAsString?: string[];
  } = {},
): Promise<{ rows: Record<string, unknown>[]; stmt: RowStatement }> {
  return new Promise((resolve, reject) => {
    const stmt = conn.execute({
      sqlText,
      binds: options.binds as never,
      parameters: options.parameters as never,
      fetchAsString: options.fetchAsString as never,
      complete: (err: SnowflakeError | undefined, s: RowStatement, rows: unknown[] | undefined) =>
        err ? reject(err) : resolve({ rows: (rows ?? []) as Record<string, unknown>[], stmt: s }),
    });
    options.onStatement?.(stmt);
  });
}

/** Run a statement, expect it to fail, and return the driver's error. */
export async function execError(conn: Connection, sqlText: string): Promise<SnowflakeError & { sqlState?: string; data?: { queryId?: string } }> {
  try {
    await exec(conn, sqlText);
  } catch (err) {
    return err as SnowflakeError;
  }
  throw new Error(`expected "${sqlText}" to fail`);
}

/** Destroy a driver connection. */
export function destroy(conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => conn.destroy((err) => (err ? reject(err) : resolve())));
}

/** POST JSON (optionally gzipped, without Content-Encoding like the driver) to the emulator. */
export async function post(
  emu: Emulator,
  path: string,
  body: unknown,
  init: { token?: string; gzip?: boolean } = {},
): Promise<{ status: number; json: Record<string, any> }> {
  const { gzipSync } = await import('node:zlib');
  const text = JSON.stringify(body);
  const res = await fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(init.token ? { Authorization: `Snowflake Token="${init.token}"` } : {}),
    },
    body: init.gzip ? gzipSync(text) : text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** Log in over raw HTTP and return the login response data. */
export async function rawLogin(emu: Emulator, gzip = false): Promise<Record<string, any>> {
  const { json } = await post(
    emu,
    '/session/v1/login-request',
    { data: { ACCOUNT_NAME: ACCOUNT, LOGIN_NAME: USER, PASSWORD, AUTHENTICATOR: 'SNOWFLAKE' } },
    { gzip },
  );
  if (!json.success) throw new Error(`login failed: ${json.code} ${json.message}`);
  return json.data as Record<string, any>;
}
