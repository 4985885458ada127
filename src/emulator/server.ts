/**
 * Snowflake-wire emulator: an HTTP server the unmodified snowflake-sdk driver
 * connects to with `accessUrl`, backed by DuckDB.
 *
 * This file is the transport (routes, bodies, envelopes) and the composition
 * of the emulator; sessions, queries and encodings live in their own modules.
 * Every answer to a client is HTTP 200 with `success:true|false` (a 5xx sends
 * the driver into minutes of retries), except unknown routes (JSON 404) and
 * chunk downloads with a bad key (403).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { Authenticator } from './auth.ts';
import { Engine } from './engine.ts';
import { QueryService, type QueryRecord, type QueryRequest, type WireBinding } from './query-service.ts';
import { ResultStore, type StoredResult } from './result-store.ts';
import { normalizeParam, parametersArray, type ParamValue } from './session-params.ts';
import { SessionStore, type Session, type SessionContext } from './sessions.ts';
import { seedDemo } from './seed/demo.ts';
import { warmUp } from './sql/translate.ts';
import { SnowflakeWireError } from './wire-error.ts';

const gunzipAsync = promisify(gunzip);

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Persist to this DuckDB file (+ one sibling file per Snowflake database); in memory when absent. */
  dbFile?: string;
  seed?: 'demo' | 'none';
  /** Extra set-up after seeding (tests create their tables here, in DuckDB SQL). */
  init?: (conn: DuckDBConnection, helpers: { createDatabase(name: string): Promise<void> }) => Promise<void>;
  account: string;
  user: string;
  password?: string;
  /** RSA public key (PEM) accepted for SNOWFLAKE_JWT key-pair login. */
  publicKeyPem?: string;
  database?: string;
  schema?: string;
  warehouse?: string;
  role?: string;
  logger?: Logger;
  /** Rows inline in the first response and per downloadable chunk (default 10,000). */
  resultChunkRows?: number;
  /** Session token lifetime (default 3600 s); the driver renews with the master token. */
  sessionTokenValiditySeconds?: number;
  /** Master token lifetime (default 4 h). */
  masterTokenValiditySeconds?: number;
  /** How long a query request is held open before answering "in progress" (default 45 s). */
  queryWaitSeconds?: number;
  /** How long results stay fetchable (default 1 h). */
  resultTtlSeconds?: number;
  /** Compressed bytes of results kept at most (default 512 MiB); the oldest go first. */
  maxResultBytes?: number;
  /** Clock, for token expiry and result TTLs (tests move it). */
  now?: () => number;
}

/** Counters for tests and diagnostics. */
export interface EmulatorStats {
  sessions: number;
  /** Session tokens renewed with a master token. */
  tokenRenewals: number;
  storedResultBytes: number;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL for the driver's `accessUrl`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  stats(): EmulatorStats;
  close(): Promise<void>;
}

/** Header the driver echoes from `chunkHeaders` when downloading chunks (S3's SSE-C key header). */
const CHUNK_KEY_HEADER = 'x-amz-server-side-encryption-customer-key';
const MAX_BODY_BYTES = 64 * 1024 * 1024;

interface Reply {
  status: number;
  body: unknown;
}

function ok(data: unknown, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { success: true, code: null, message: null, data, ...extra } };
}

function failure(err: SnowflakeWireError, queryId?: string): Reply {
  return {
    status: 200,
    body: {
      success: false,
      code: err.code,
      message: err.message,
      data: { errorCode: err.code, sqlState: err.sqlState, queryId: queryId ?? null, internalError: err.code === '000603', age: 0 },
      headers: null,
    },
  };
}

/** Snowflake folds unquoted identifiers to upper case. */
function snowflakeName(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  return raw.startsWith('"') && raw.endsWith('"') && raw.length > 1 ? raw.slice(1, -1) : raw.toUpperCase();
}

function tokenFrom(req: IncomingMessage): string | undefined {
  const m = /Snowflake Token="([^"]*)"/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > MAX_BODY_BYTES) throw SnowflakeWireError.of('BAD_REQUEST', 'Request body too large.');
    parts.push(part as Buffer);
  }
  let raw = Buffer.concat(parts);
  // The driver gzips bodies, sometimes without a Content-Encoding header: sniff the magic bytes.
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = await gunzipAsync(raw);
    } catch {
      throw SnowflakeWireError.of('BAD_REQUEST', 'Request body is not valid gzip.');
    }
  }
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw SnowflakeWireError.of('BAD_REQUEST', 'Request body is not valid JSON.');
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Start the emulator; resolves once it listens. */
export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  if (!opts.password && !opts.publicKeyPem) throw new Error('startEmulator: give the user a password and/or a publicKeyPem');
  const now = opts.now ?? Date.now;
  const log = opts.logger?.child({ component: 'emulator' });
  const chunkRows = Math.max(1, opts.resultChunkRows ?? 10_000);
  const queryWaitMs = (opts.queryWaitSeconds ?? 45) * 1000;

  const auth = new Authenticator({ account: opts.account, user: opts.user, password: opts.password, publicKeyPem: opts.publicKeyPem }, now);
  const engine = await Engine.open({ dbFile: opts.dbFile });
  const sessions = new SessionStore(
    { sessionSeconds: opts.sessionTokenValiditySeconds ?? 3600, masterSeconds: opts.masterTokenValiditySeconds ?? 4 * 3600 },
    now,
  );
  const results = new ResultStore({ ttlMs: (opts.resultTtlSeconds ?? 3600) * 1000, maxBytes: opts.maxResultBytes ?? 512 * 1024 * 1024 }, now);
  const queries = new QueryService({ engine, results, chunkRows, now, recordTtlMs: (opts.resultTtlSeconds ?? 3600) * 1000, logger: log });

  try {
    await warmUp();
    const helpers = { createDatabase: async (name: string): Promise<void> => void (await engine.createDatabase(name)) };
    if (opts.seed === 'demo' || opts.init) {
      const conn = await engine.connect();
      try {
        if (opts.seed === 'demo') await seedDemo(conn, helpers);
        if (opts.init) await opts.init(conn, helpers);
      } finally {
        conn.disconnectSync();
      }
    }
    await engine.refreshCatalog();
  } catch (err) {
    await engine.close();
    throw err;
  }

  const defaults: SessionContext = {
    database: snowflakeName(opts.database) ?? (opts.seed === 'demo' ? 'ANALYTICS' : ''),
    schema: snowflakeName(opts.schema) ?? 'PUBLIC',
    warehouse: snowflakeName(opts.warehouse) ?? 'EMULATOR_WH',
    role: snowflakeName(opts.role) ?? 'PUBLIC',
  };

  function resultData(result: StoredResult, baseUrl: string): Record<string, unknown> {
    const data: Record<string, unknown> = {
      parameters: parametersArray(result.parameters),
      rowtype: result.rowtype,
      rowset: result.firstRows,
      total: result.total,
      returned: result.total,
      queryId: result.queryId,
      databaseProvider: null,
      finalDatabaseName: result.context.database || null,
      finalSchemaName: result.context.schema || null,
      finalWarehouseName: result.context.warehouse,
      finalRoleName: result.context.role,
      numberOfBinds: result.numberOfBinds,
      arrayBindSupported: false,
      statementTypeId: result.statementTypeId,
      version: 1,
      sendResultTime: now(),
      queryResultFormat: 'json',
    };
    if (result.chunks.length > 0) {
      data.chunkHeaders = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', [CHUNK_KEY_HEADER]: result.chunkKey };
      data.chunks = result.chunks.map((c, i) => ({
        url: `${baseUrl}/emulator/chunks/${result.queryId}/${i}`,
        rowCount: c.rowCount,
        uncompressedSize: c.uncompressedSize,
        compressedSize: c.body.length,
      }));
    }
    return data;
  }

  function inProgress(record: QueryRecord, async: boolean): Reply {
    return ok(
      { queryId: record.id, getResultUrl: `/queries/${record.id}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
      async
        ? { code: '333334', message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.' }
        : { code: '333333', message: 'Query execution in progress. Query will be aborted unless request for result is received within 300 seconds.' },
    );
  }

  function recordReply(record: QueryRecord, baseUrl: string): Reply {
    if (record.error) return failure(record.error, record.id);
    if (record.result) return ok(resultData(record.result, baseUrl));
    return inProgress(record, false);
  }

  async function waitFor(record: QueryRecord): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([record.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, queryWaitMs)))]);
    clearTimeout(timer);
  }

  async function closeSession(session: Session): Promise<void> {
    sessions.remove(session);
    await queries.cancelSession(session);
    await session.queue.run(async () => session.conn.disconnectSync());
  }

  async function login(req: IncomingMessage, url: URL): Promise<Reply> {
    const body = asRecord(await readBody(req));
    const data = asRecord(body.data);
    try {
      auth.check({
        accountName: optString(data.ACCOUNT_NAME) ?? '',
        loginName: optString(data.LOGIN_NAME) ?? '',
        authenticator: optString(data.AUTHENTICATOR) ?? 'SNOWFLAKE',
        password: optString(data.PASSWORD),
        token: optString(data.TOKEN),
      });
    } catch (err) {
      log?.info({ user: data.LOGIN_NAME, authenticator: data.AUTHENTICATOR, code: (err as SnowflakeWireError).code }, 'emulator login refused');
      throw err;
    }
    const params: Record<string, ParamValue> = {};
    for (const [k, v] of Object.entries(asRecord(data.SESSION_PARAMETERS))) {
      const [key, value] = normalizeParam(k, v);
      params[key] = value;
    }
    const context: SessionContext = {
      database: snowflakeName(url.searchParams.get('databaseName')) ?? defaults.database,
      schema: snowflakeName(url.searchParams.get('schemaName')) ?? defaults.schema,
      warehouse: snowflakeName(url.searchParams.get('warehouse')) ?? defaults.warehouse,
      role: snowflakeName(url.searchParams.get('roleName')) ?? defaults.role,
    };
    const conn = await engine.connect();
    if (context.database) {
      try {
        await conn.run(`USE "${context.database.replace(/"/g, '""')}"."${context.schema.replace(/"/g, '""')}"`);
      } catch {
        // Like Snowflake, a login naming a missing database still succeeds, without a current database.
      }
    }
    const session = sessions.create({ user: opts.user.toUpperCase(), context, params, conn });
    const t = sessions.tokens(session);
    log?.info({ sessionId: session.id, authenticator: data.AUTHENTICATOR ?? 'SNOWFLAKE' }, 'emulator session opened');
    return ok({
      token: t.sessionToken,
      validityInSeconds: t.sessionValiditySeconds,
      masterToken: t.masterToken,
      masterValidityInSeconds: t.masterValiditySeconds,
      sessionId: session.id,
      displayUserName: session.user,
      serverVersion: 'airlock-emulator',
      firstLogin: false,
      remMeToken: null,
      remMeValidityInSeconds: 0,
      healthCheckInterval: 45,
      newClientForUpgrade: null,
      idToken: null,
      idTokenValidityInSeconds: 0,
      responseData: null,
      mfaToken: null,
      mfaTokenValidityInSeconds: 0,
      parameters: parametersArray(session.params),
      sessionInfo: {
        databaseName: context.database || null,
        schemaName: context.schema || null,
        warehouseName: context.warehouse,
        roleName: context.role,
      },
    });
  }

  async function queryRequest(req: IncomingMessage, url: URL, baseUrl: string): Promise<Reply> {
    const session = sessions.authenticate(tokenFrom(req));
    const body = asRecord(await readBody(req));
    const sqlText = optString(body.sqlText);
    if (sqlText === undefined || sqlText.trim() === '') {
      return failure(new SnowflakeWireError('000900', '42000', 'SQL compilation error:\nEmpty SQL statement.'));
    }
    const request: QueryRequest = {
      sqlText,
      bindings: body.bindings ? (asRecord(body.bindings) as Record<string, WireBinding>) : undefined,
      parameters: body.parameters ? asRecord(body.parameters) : undefined,
      describeOnly: body.describeOnly === true,
      requestId: url.searchParams.get('requestId') ?? undefined,
    };
    const record = queries.submit(session, request);
    log?.debug({ queryId: record.id, sessionId: session.id }, 'emulator query submitted');
    if (body.asyncExec === true) return inProgress(record, true);
    await waitFor(record);
    return recordReply(record, baseUrl);
  }

  async function getResult(req: IncomingMessage, queryId: string, baseUrl: string): Promise<Reply> {
    sessions.authenticate(tokenFrom(req));
    const record = queries.get(queryId);
    if (record) {
      await waitFor(record);
      return recordReply(record, baseUrl);
    }
    const stored = results.get(queryId);
    if (stored) return ok(resultData(stored, baseUrl));
    return failure(SnowflakeWireError.of('STATEMENT_NOT_FOUND', `Statement ${queryId} not found`), queryId);
  }

  function monitoring(req: IncomingMessage, queryId: string): Reply {
    sessions.authenticate(tokenFrom(req));
    const r = queries.get(queryId);
    if (!r) return ok({ queries: [] });
    const failed = r.status === 'FAILED_WITH_ERROR' || r.status === 'ABORTED';
    return ok(
      {
        queries: [
          {
            id: r.id,
            status: r.status,
            state: r.status === 'SUCCESS' ? 'SUCCEEDED' : r.status,
            sqlText: r.sqlText,
            startTime: r.startTime,
            endTime: r.endTime ?? 0,
            totalDuration: (r.endTime ?? now()) - r.startTime,
            sessionId: r.sessionId,
            errorCode: r.error?.code ?? null,
            errorMessage: r.error?.message ?? null,
          },
        ],
        sqlState: failed ? (r.error?.sqlState ?? null) : null,
      },
      failed ? { code: r.error?.code ?? null } : {},
    );
  }

  async function abort(req: IncomingMessage, queryId: string | undefined): Promise<Reply> {
    const session = sessions.authenticate(tokenFrom(req));
    let record: QueryRecord | undefined;
    if (queryId) record = queries.get(queryId);
    else {
      const requestId = optString(asRecord(await readBody(req)).requestId);
      record = requestId ? queries.getByRequestId(requestId) : undefined;
    }
    if (!record || record.session.user !== session.user || !queries.cancel(record)) {
      return failure(SnowflakeWireError.of('NOT_EXECUTING'), queryId);
    }
    log?.info({ queryId: record.id }, 'emulator query cancel requested');
    return ok(null);
  }

  function chunk(req: IncomingMessage, res: ServerResponse, queryId: string, index: number): void {
    const result = results.get(queryId);
    const part = result?.chunks[index];
    const given = Buffer.from(String(req.headers[CHUNK_KEY_HEADER] ?? ''));
    const expected = Buffer.from(result?.chunkKey ?? '');
    if (!result || !part || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      send(res, { status: result && part ? 403 : 404, body: { success: false, code: 'CHUNK_NOT_AVAILABLE', message: 'Result chunk not found or key missing.' } });
      return;
    }
    // Not application/json: the driver would try to JSON.parse the bracket-less rows.
    res.writeHead(200, { 'Content-Type': 'binary/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': part.body.length });
    res.end(part.body);
  }

  function send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent) return;
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<Reply | undefined> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const baseUrl = `http://${req.headers.host ?? `${host}:${port}`}`;
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/session/v1/login-request') return login(req, url);
    if (method === 'POST' && path === '/session/token-request') {
      const body = asRecord(await readBody(req));
      const session = sessions.renew(tokenFrom(req), optString(body.oldSessionToken));
      const t = sessions.tokens(session);
      return ok({
        sessionToken: t.sessionToken,
        validityInSecondsST: t.sessionValiditySeconds,
        masterToken: t.masterToken,
        validityInSecondsMT: t.masterValiditySeconds,
        sessionId: session.id,
      });
    }
    if (method === 'POST' && path === '/session/heartbeat') {
      sessions.authenticate(tokenFrom(req));
      return ok({});
    }
    if (method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      const session = sessions.authenticate(tokenFrom(req));
      await closeSession(session);
      log?.info({ sessionId: session.id }, 'emulator session closed');
      return ok(null);
    }
    if (method === 'POST' && path === '/telemetry/send') {
      await readBody(req);
      return ok('Log Received');
    }
    if (method === 'POST' && path === '/queries/v1/query-request') return queryRequest(req, url, baseUrl);
    if (method === 'POST' && path === '/queries/v1/abort-request') return abort(req, undefined);
    if (method === 'POST' && (m = /^\/queries\/([0-9a-f-]{36})\/abort-request$/i.exec(path))) return abort(req, m[1]!);
    if (method === 'GET' && (m = /^\/queries\/([0-9a-f-]{36})\/result$/i.exec(path))) return getResult(req, m[1]!, baseUrl);
    if (method === 'GET' && (m = /^\/monitoring\/queries\/([0-9a-f-]{36})$/i.exec(path))) return monitoring(req, m[1]!);
    if (method === 'GET' && (m = /^\/emulator\/chunks\/([0-9a-f-]{36})\/(\d+)$/i.exec(path))) {
      chunk(req, res, m[1]!, Number(m[2]));
      return undefined;
    }
    req.resume();
    return { status: 404, body: { success: false, code: 'NOT_FOUND', message: `No route for ${method} ${path}`, data: null } };
  }

  const server: Server = createServer((req, res) => {
    route(req, res).then(
      (reply) => reply && send(res, reply),
      (err: unknown) => {
        if (err instanceof SnowflakeWireError) {
          send(res, failure(err));
          return;
        }
        log?.error({ err, path: req.url }, 'emulator request failed');
        send(res, failure(SnowflakeWireError.of('INTERNAL', `Internal error: ${err instanceof Error ? err.message : String(err)}`)));
      },
    );
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}`;
  log?.info({ url }, 'emulator listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats: () => ({ sessions: sessions.all().length, tokenRenewals: sessions.renewals, storedResultBytes: results.storedBytes }),
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all(sessions.all().map(closeSession));
        await closed;
        await engine.close();
        log?.info('emulator stopped');
      })()),
  };
}
