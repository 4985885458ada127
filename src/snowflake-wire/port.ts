/**
 * The back-end port of the Snowflake wire protocol: what a server behind the
 * driver's endpoints must do. The protocol (`router.ts`) owns the HTTP side —
 * routes, bodies, tokens, envelopes, "in progress" codes and the result
 * format — so a back end only answers in these terms. Two back ends exist: the
 * emulator (DuckDB, dev and tests) and the Airlock gateway (every statement
 * an Airlock query).
 *
 * Every method throws a {@link SnowflakeWireError} to refuse; anything else
 * becomes `000603`.
 */
import type { SnowflakeWireError } from './errors.ts';
import type { ParamValue } from './parameters.ts';

/** Current database/schema/warehouse/role of a session (Snowflake names; `''` when none). */
export interface WireContext {
  database: string;
  schema: string;
  warehouse: string;
  role: string;
}

/** The login request's fields, as the driver sent them. */
export interface LoginRequest {
  accountName: string;
  loginName: string;
  /** `SNOWFLAKE` (password), `SNOWFLAKE_JWT` (key pair), `OAUTH`, … as sent, upper-cased. */
  authenticator: string;
  password?: string;
  /** The OAuth access token, or the key pair's own JWT. */
  token?: string;
  sessionParameters: Record<string, unknown>;
  /** Context the login URL asks for (`databaseName`, `schemaName`, `warehouse`, `roleName`), folded. */
  context: Partial<WireContext>;
  client: WireClient;
}

/** Where a request came from, for logs and the session log. */
export interface WireClient {
  address?: string;
  userAgent?: string;
}

/** Tokens of a session, as the login and renewal responses carry them. */
export interface SessionTokens {
  sessionToken: string;
  masterToken: string;
  sessionValiditySeconds: number;
  masterValiditySeconds: number;
  sessionId: string;
}

/** A successful login. */
export interface LoginGrant extends SessionTokens {
  displayUserName: string;
  serverVersion: string;
  parameters: Readonly<Record<string, ParamValue>>;
  context: WireContext;
}

/** One binding as snowflake-sdk sends it: `{"1": {type: 'TEXT', value: 'x'}}`; arrays mean array binding. */
export interface WireBinding {
  type?: string;
  value: string | null | (string | null)[];
}

/** A statement as the driver submits it. */
export interface StatementRequest {
  sqlText: string;
  bindings?: Record<string, WireBinding>;
  parameters?: Record<string, unknown>;
  describeOnly: boolean;
  asyncExec: boolean;
  requestId?: string;
  client: WireClient;
}

/** A rowset cell: always a string, or null for SQL NULL. */
export type Cell = string | null;

/** One column of a result's `rowtype`. */
export interface WireColumn {
  name: string;
  database: string;
  schema: string;
  table: string;
  type: string;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
  collation: null;
}

/** A downloadable part of a result: an absolute URL the driver fetches without its session token. */
export interface WireChunk {
  url: string;
  rowCount: number;
  uncompressedSize?: number;
  compressedSize?: number;
}

/** A finished result, as the protocol renders it. */
export interface WireResult {
  queryId: string;
  rowtype: WireColumn[];
  /** The rows sent inline. */
  rowset: Cell[][];
  total: number;
  chunks: WireChunk[];
  /** Headers the driver sends with every chunk download (the chunk key). */
  chunkHeaders?: Record<string, string>;
  statementTypeId: number;
  parameters: Readonly<Record<string, ParamValue>>;
  context: WireContext;
  numberOfBinds: number;
}

/** Where a statement stands: finished, failed, or still going (the driver polls). */
export type StatementState =
  | { kind: 'done'; result: WireResult }
  | { kind: 'failed'; queryId: string; error: SnowflakeWireError }
  | { kind: 'running'; queryId: string };

/** Query states as `GET /monitoring/queries/{id}` reports them (the driver's `QueryStatus`). */
export type MonitorStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';

/** A statement as monitoring reports it. */
export interface QueryMonitor {
  id: string;
  status: MonitorStatus;
  sqlText: string;
  startTime: number;
  endTime?: number;
  sessionId: string;
  error?: SnowflakeWireError;
}

/** What a back end answers; `sessionToken` is the `Authorization: Snowflake Token` value, unchecked. */
export interface WireBackend {
  /** Path under which chunk URLs live (`/emulator/chunks`); requests below it go to {@link WireBackend.chunk}. */
  readonly chunkPrefix: string;
  login(request: LoginRequest): Promise<LoginGrant>;
  /** A new session token for the master token (`/session/token-request`). */
  renew(masterToken: string | undefined, oldSessionToken: string | undefined): Promise<SessionTokens>;
  heartbeat(sessionToken: string | undefined): Promise<void>;
  logout(sessionToken: string | undefined): Promise<void>;
  /** Submit; for `asyncExec` answer `running` at once, else wait a while for the outcome. */
  submit(sessionToken: string | undefined, request: StatementRequest, baseUrl: string): Promise<StatementState>;
  /** A submitted statement's outcome, waiting a while when it is still going. */
  result(sessionToken: string | undefined, queryId: string, baseUrl: string): Promise<StatementState>;
  /** A statement's status, or undefined when the session knows no such statement. */
  monitor(sessionToken: string | undefined, queryId: string): Promise<QueryMonitor | undefined>;
  /** Cancel a statement by query id or by the driver's request id; false when nothing was running. */
  abort(sessionToken: string | undefined, target: { queryId: string } | { requestId: string }): Promise<boolean>;
  /** A gzip chunk for the path segments below `chunkPrefix` and the key header; `forbidden` or `missing` otherwise. */
  chunk(segments: string[], key: string): Promise<Buffer | 'forbidden' | 'missing'>;
}
