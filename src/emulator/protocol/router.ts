/**
 * The emulator's route table: which handler answers which method and path.
 * Every failure becomes an HTTP 200 `success:false` envelope (see `wire.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorState } from '../state.ts';
import { SnowflakeWireError } from '../wire-error.ts';
import { chunk } from './chunks.ts';
import { abort, getResult, monitoring, queryRequest } from './query-routes.ts';
import { deleteSession, heartbeat, login, renewToken, telemetry } from './session-routes.ts';
import { failure, send, type Reply } from './wire.ts';

/**
 * Answer one request. `fallbackHost` (`host:port` of the listener) builds chunk
 * URLs when the request carries no Host header.
 */
export function handleRequest(state: EmulatorState, req: IncomingMessage, res: ServerResponse, fallbackHost: () => string): void {
  route(state, req, res, fallbackHost).then(
    (reply) => reply && send(res, reply),
    (err: unknown) => {
      if (err instanceof SnowflakeWireError) {
        send(res, failure(err));
        return;
      }
      state.log?.error({ err, path: req.url }, 'emulator request failed');
      send(res, failure(SnowflakeWireError.of('INTERNAL', `Internal error: ${err instanceof Error ? err.message : String(err)}`)));
    },
  );
}

/** The reply for a request, or undefined when the handler wrote the response itself (chunks). */
async function route(state: EmulatorState, req: IncomingMessage, res: ServerResponse, fallbackHost: () => string): Promise<Reply | undefined> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const baseUrl = `http://${req.headers.host ?? fallbackHost()}`;
  const method = req.method ?? 'GET';
  const path = url.pathname;
  let m: RegExpExecArray | null;
  if (method === 'POST' && path === '/session/v1/login-request') return login(state, req, url);
  if (method === 'POST' && path === '/session/token-request') return renewToken(state, req);
  if (method === 'POST' && path === '/session/heartbeat') return heartbeat(state, req);
  if (method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') return deleteSession(state, req);
  if (method === 'POST' && path === '/telemetry/send') return telemetry(req);
  if (method === 'POST' && path === '/queries/v1/query-request') return queryRequest(state, req, url, baseUrl);
  if (method === 'POST' && path === '/queries/v1/abort-request') return abort(state, req, undefined);
  if (method === 'POST' && (m = /^\/queries\/([0-9a-f-]{36})\/abort-request$/i.exec(path))) return abort(state, req, m[1]!);
  if (method === 'GET' && (m = /^\/queries\/([0-9a-f-]{36})\/result$/i.exec(path))) return getResult(state, req, m[1]!, baseUrl);
  if (method === 'GET' && (m = /^\/monitoring\/queries\/([0-9a-f-]{36})$/i.exec(path))) return monitoring(state, req, m[1]!);
  if (method === 'GET' && (m = /^\/emulator\/chunks\/([0-9a-f-]{36})\/(\d+)$/i.exec(path))) {
    chunk(state.results, req, res, m[1]!, Number(m[2]));
    return undefined;
  }
  req.resume();
  return { status: 404, body: { success: false, code: 'NOT_FOUND', message: `No route for ${method} ${path}`, data: null } };
}
