/**
 * Session routes: login, token renewal, heartbeat, logout, and the driver's
 * telemetry (accepted and dropped).
 */
import type { IncomingMessage } from 'node:http';
import { normalizeParam, parametersArray, type ParamValue } from '../session-params.ts';
import type { SessionContext } from '../sessions.ts';
import { closeSession, type EmulatorState } from '../state.ts';
import type { SnowflakeWireError } from '../wire-error.ts';
import { asRecord, ok, optString, readBody, snowflakeName, tokenFrom, type Reply } from './wire.ts';

/** `POST /session/v1/login-request`: check the credentials, open a session on its own DuckDB connection. */
export async function login(state: EmulatorState, req: IncomingMessage, url: URL): Promise<Reply> {
  const { log } = state;
  const body = asRecord(await readBody(req));
  const data = asRecord(body.data);
  try {
    state.auth.check({
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
  const context = loginContext(state.defaults, url);
  const conn = await state.engine.connect();
  if (context.database) {
    try {
      await conn.run(`USE "${context.database.replace(/"/g, '""')}"."${context.schema.replace(/"/g, '""')}"`);
    } catch {
      // Like Snowflake, a login naming a missing database still succeeds, without a current database.
    }
  }
  const session = state.sessions.create({ user: state.user.toUpperCase(), context, params, conn });
  const t = state.sessions.tokens(session);
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

/** The context the login URL asks for, falling back to the emulator's defaults. */
function loginContext(defaults: SessionContext, url: URL): SessionContext {
  return {
    database: snowflakeName(url.searchParams.get('databaseName')) ?? defaults.database,
    schema: snowflakeName(url.searchParams.get('schemaName')) ?? defaults.schema,
    warehouse: snowflakeName(url.searchParams.get('warehouse')) ?? defaults.warehouse,
    role: snowflakeName(url.searchParams.get('roleName')) ?? defaults.role,
  };
}

/** `POST /session/token-request`: a new session token for the master token. */
export async function renewToken(state: EmulatorState, req: IncomingMessage): Promise<Reply> {
  const body = asRecord(await readBody(req));
  const session = state.sessions.renew(tokenFrom(req), optString(body.oldSessionToken));
  const t = state.sessions.tokens(session);
  return ok({
    sessionToken: t.sessionToken,
    validityInSecondsST: t.sessionValiditySeconds,
    masterToken: t.masterToken,
    validityInSecondsMT: t.masterValiditySeconds,
    sessionId: session.id,
  });
}

/** `POST /session/heartbeat`: the session is alive. */
export function heartbeat(state: EmulatorState, req: IncomingMessage): Reply {
  state.sessions.authenticate(tokenFrom(req));
  return ok({});
}

/** `POST /session?delete=true`: logout. */
export async function deleteSession(state: EmulatorState, req: IncomingMessage): Promise<Reply> {
  const session = state.sessions.authenticate(tokenFrom(req));
  await closeSession(state, session);
  state.log?.info({ sessionId: session.id }, 'emulator session closed');
  return ok(null);
}

/** `POST /telemetry/send`: read and dropped. */
export async function telemetry(req: IncomingMessage): Promise<Reply> {
  await readBody(req);
  return ok('Log Received');
}
