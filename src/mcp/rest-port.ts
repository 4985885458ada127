/**
 * The {@link AirlockPort} over a remote Airlock's REST API: what `airlock mcp
 * --url …` runs on the agent's machine. It holds only the agent's token; the
 * remote Airlock decides, asks approvers, runs, masks and records, exactly as
 * for any REST client.
 */
import { decodeJwt } from 'jose';
import { AIRLOCK_ERROR_CODES, AirlockError, type AirlockErrorCode } from '../errors.ts';
import type { AirlockPort, Refusal } from './port.ts';
import type { TokenSource } from './token-source.ts';

/** Options of {@link restPort}. */
export interface RestPortOptions {
  /** The Airlock's base URL (`https://airlock.example.com`). */
  url: string;
  tokens: TokenSource;
  /** Sent as User-Agent, so the session log says which client asked. */
  userAgent: string;
  fetch?: typeof fetch;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The agent id a token names (`sub`, else `client_id`, as the verifier reads it), unverified:
 * it only narrows a search the server checks anyway. Undefined for a token that is not a JWT.
 */
function agentOf(token: string): string | undefined {
  try {
    const claims = decodeJwt(token);
    const id = claims.sub ?? claims.client_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(AIRLOCK_ERROR_CODES);

/** An error answer as the AirlockError the remote raised (its code and sentence). */
function remoteError(answer: Answer, url: string): AirlockError {
  const error = answer.body.error as { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
  if (error?.code && KNOWN_CODES.has(error.code)) {
    return new AirlockError(error.code as AirlockErrorCode, error.message ?? `Airlock answered ${answer.status}.`, { details: error.details ?? {} });
  }
  return new AirlockError(answer.status >= 500 ? 'DEPENDENCY_MISSING' : 'BAD_REQUEST', `Airlock at ${url} answered HTTP ${answer.status} without an Airlock error body.`);
}

/** The port for the agent whose token `tokens` gives. */
export function restPort(options: RestPortOptions): AirlockPort {
  const base = options.url.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;

  async function once(path: string, init: { method: string; body?: unknown }, token: string): Promise<Answer> {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method: init.method,
        headers: {
          authorization: `Bearer ${token}`,
          'user-agent': options.userAgent,
          accept: 'application/json',
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (err) {
      throw new AirlockError('DEPENDENCY_MISSING', `Airlock at ${base} cannot be reached; check --url and the network.`, { cause: err });
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      // Not JSON (a proxy's page): remoteError names the status.
    }
    return { status: response.status, body };
  }

  /** One call; a 401 gets one retry with a fresh token (the old one may have expired in flight). */
  async function call(path: string, init: { method: string; body?: unknown }): Promise<Answer> {
    let answer = await once(path, init, await options.tokens.token());
    if (answer.status === 401 && options.tokens.refresh) answer = await once(path, init, await options.tokens.refresh());
    return answer;
  }

  async function ok<T>(path: string, init: { method: string; body?: unknown } = { method: 'GET' }): Promise<T> {
    const answer = await call(path, init);
    if (answer.status >= 400) throw remoteError(answer, base);
    return answer.body as T;
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
    const text = search.toString();
    return text === '' ? '' : `?${text}`;
  };
  const idPath = (id: string) => `/v1/queries/${encodeURIComponent(id)}`;

  return {
    async run(request) {
      const answer = await call('/v1/queries', { method: 'POST', body: request });
      if (answer.status >= 400) {
        // A refusal carries the recorded decision and id beside the error (POLICY_DENIED, SQL_TOO_COMPLEX, NOT_SQL).
        const error = remoteError(answer, base);
        const { id, decision } = answer.body as Partial<Pick<Refusal, 'id' | 'decision'>>;
        if (typeof id === 'string' && decision?.action === 'deny') return { refused: true, refusal: { id, code: error.code, message: error.message, decision } };
        throw error;
      }
      return { refused: false, view: answer.body as never };
    },
    get: (id, waitMs) => ok(`${idPath(id)}${q({ waitMs })}`),
    results: (id, cursor, limit) => ok(`${idPath(id)}/results${q({ cursor, limit })}`),
    cancel: (id) => ok(`${idPath(id)}/cancel`, { method: 'POST' }),
    evaluate: (sql) => ok('/v1/policy/evaluate', { method: 'POST', body: { sql } }),
    async mine(filter) {
      // The server pins an agent's search to itself; a reviewer's token would see every agent's, so ask for our own.
      const agent = agentOf(await options.tokens.token());
      const page = await ok<{ sessions: never[]; nextCursor?: string }>(
        `/v1/sessions${q({ agent, status: filter.status, table: filter.table, cursor: filter.cursor, limit: filter.limit })}`,
      );
      return { sessions: page.sessions, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
    },
  };
}
