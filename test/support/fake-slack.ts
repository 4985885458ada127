/**
 * A local fake of the Slack Web API for tests and the bench: the sandbox's
 * workspace (src/sandbox/workspace.ts, the methods and their state) on a port
 * of its own, with what only tests need around it — every call recorded,
 * faults on demand, waiters, response URLs and a Socket Mode URL.
 *
 * It answers as Slack does, so the real `WebClient` (`@slack/web-api` 8, via
 * `slackApiUrl: fake.url`) works against it unchanged: `POST /api/<method>`
 * with form-encoded (what web-api sends, JSON-valued fields such as `blocks`
 * as JSON strings) or JSON bodies; `Authorization: Bearer <token>` (or a
 * `token` field) required; errors as HTTP 200 `{ok:false, error}`; rate limits
 * as 429 with `Retry-After`; outages as 5xx on demand. Messages are checked
 * with `src/slack/limits.ts`, so a card that breaks Block Kit limits fails here
 * as it would in Slack (`invalid_blocks`, `msg_too_long`, `msg_blocks_too_long`).
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWebApiBody, str } from '../../src/sandbox/web-api-body.ts';
import { createWorkspace, type SlackAnswer, type SlackEphemeral, type SlackFile, type SlackMessage, type SlackOpenedView, type SlackProfile } from '../../src/sandbox/workspace.ts';

/** One request the fake received. */
export interface FakeSlackCall {
  method: string;
  body: Record<string, unknown>;
  /** Date.now() when it arrived. */
  at: number;
  /** HTTP status answered. */
  status: number;
  /** `ok` of the answer (false for every error, including 429 and 5xx). */
  ok: boolean;
  /** `error` of the answer, when not ok. */
  error?: string;
}

/** A message as stored after chat.postMessage / chat.update. */
export type FakeSlackMessage = SlackMessage;

/** A fault to inject into the next calls of a method. */
export type FakeSlackFault =
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503 }
  | { error: string }
  | { delayMs: number };

/** Options of {@link startFakeSlack}. */
export interface FakeSlackOptions {
  /** Accepted bot token; any `xox…` token when absent. */
  token?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Lifetime of trigger ids made by `slack-sign.ts#triggerId` (0: never expire). Slack's is ~3 s. */
  triggerTtlMs?: number;
  port?: number;
}

/** A running fake. */
export interface FakeSlack {
  /** Base URL ending in `/api/`: pass as `SLACK_API_URL` / `slackApiUrl`. */
  url: string;
  /** Origin (`http://127.0.0.1:PORT`), for permalinks and response URLs. */
  origin: string;
  calls: FakeSlackCall[];
  messages: Map<string, FakeSlackMessage>;
  ephemerals: SlackEphemeral[];
  views: SlackOpenedView[];
  files: SlackFile[];
  /** Bodies posted to response URLs made by {@link FakeSlack.responseUrl}. */
  responses: { path: string; body: Record<string, unknown>; at: number }[];
  /**
   * The WebSocket URL `apps.connections.open` returns (a fake Socket Mode
   * server's, see `fake-socket-mode.ts`). That method takes an app-level token
   * (`xapp-…`; a bot token gets `not_allowed_token_type`, as in Slack); until a
   * URL is set it answers `{ok:false, error:'socket_mode_url_not_set'}` (the
   * fake's own error). Every other method still wants an `xox…` token.
   */
  setSocketModeUrl(url: string | undefined): void;
  /** Inject `fault` into the next `times` (default 1) calls of `method`. */
  failNext(method: string, fault: FakeSlackFault, times?: number): void;
  setUsergroupMembers(groupId: string, userIds: string[]): void;
  setUser(userId: string, profile: SlackProfile): void;
  setChannelMembers(channel: string, userIds: string[]): void;
  /** A URL the app can post to as Slack's `response_url`; posts land in `responses`. */
  responseUrl(name?: string): string;
  /** Successful calls of a method, in order. */
  callsTo(method: string): FakeSlackCall[];
  /** Resolves with the first successful call (past or future) of `method` matching `match`. */
  waitForCall(method: string, match?: (call: FakeSlackCall) => boolean, timeoutMs?: number): Promise<FakeSlackCall>;
  /** Forget calls, messages, ephemerals, views, files, responses and faults (users and groups stay). */
  reset(): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type Answer = SlackAnswer;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const fail = (error: string): Answer => ({ body: { ok: false, error } });

/** Starts the fake on 127.0.0.1 (a free port unless `opts.port`). */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  let origin = '';
  const workspace = createWorkspace({
    origin: () => origin,
    ...(opts.teamId ? { teamId: opts.teamId } : {}),
    ...(opts.botUserId ? { botUserId: opts.botUserId } : {}),
    ...(opts.botId ? { botId: opts.botId } : {}),
    ...(opts.triggerTtlMs !== undefined ? { triggerTtlMs: opts.triggerTtlMs } : {}),
  });
  const teamId = workspace.teamId;
  const calls: FakeSlackCall[] = [];
  const responses: FakeSlack['responses'] = [];
  const faults = new Map<string, FakeSlackFault[]>();
  let socketModeUrl: string | undefined;
  const waiters = new Set<{ method: string; match: (c: FakeSlackCall) => boolean; resolve: (c: FakeSlackCall) => void }>();

  const record = (method: string, body: Json, ans: Answer): void => {
    const call: FakeSlackCall = { method, body, at: Date.now(), status: ans.status ?? 200, ok: ans.body.ok === true };
    const err = str(ans.body.error);
    if (err) call.error = err;
    calls.push(call);
    if (call.ok) {
      for (const w of waiters) {
        if (w.method === method && w.match(call)) {
          waiters.delete(w);
          w.resolve(call);
        }
      }
    }
  };

  const send = (res: ServerResponse, ans: Answer): void => {
    res.writeHead(ans.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...ans.headers });
    res.end(JSON.stringify(ans.body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');

    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      const id = url.pathname.slice('/upload/'.length);
      let content = raw.toString('utf8');
      if (contentType.includes('multipart/form-data')) {
        const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
        const part = [...form.values()][0];
        content = typeof part === 'string' ? part : part ? await part.text() : '';
      }
      if (!workspace.upload(id, content)) return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
      let body: Json = {};
      try {
        body = parseWebApiBody(raw.toString('utf8'), contentType.includes('json') || raw[0] === 0x7b ? 'application/json' : contentType);
      } catch {
        return send(res, { status: 400, body: { ok: false, error: 'invalid_payload' } });
      }
      responses.push({ path: url.pathname, body, at: Date.now() });
      return send(res, { body: { ok: true } });
    }
    if (!url.pathname.startsWith('/api/')) return send(res, { status: 404, body: { ok: false, error: 'not_found' } });

    const method = url.pathname.slice('/api/'.length);
    let body: Json;
    try {
      body = parseWebApiBody(raw.toString('utf8'), contentType);
      for (const [k, v] of url.searchParams) if (!(k in body)) body[k] = v;
    } catch {
      const ans = fail('invalid_json');
      record(method, {}, ans);
      return send(res, ans);
    }

    const queue = faults.get(method);
    const fault = queue?.shift();
    if (queue && !queue.length) faults.delete(method);
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    else if (fault) {
      const ans: Answer =
        'error' in fault
          ? fail(fault.error)
          : fault.status === 429
            ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(fault.retryAfter ?? 1) } }
            : { status: fault.status, body: { ok: false, error: 'internal_error' } };
      record(method, body, ans);
      return send(res, ans);
    }

    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : str(body.token);
    let ans: Answer;
    if (!token) ans = fail('not_authed');
    else if (method === 'apps.connections.open') {
      // Socket Mode: the only method that takes (and requires) an app-level token.
      if (/^xox[a-z]-/.test(token)) ans = fail('not_allowed_token_type');
      else if (!/^xapp-/.test(token)) ans = fail('invalid_auth');
      else if (!socketModeUrl) ans = fail('socket_mode_url_not_set');
      else ans = { body: { ok: true, url: socketModeUrl } };
    } else if (opts.token ? token !== opts.token : !/^xox[a-z]-/.test(token)) ans = fail('invalid_auth');
    else ans = workspace.call(method, body);
    record(method, body, ans);
    send(res, ans);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { ok: false, error: 'fake_slack_crashed', detail: String(err) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/api/`,
    origin,
    calls,
    messages: workspace.messages,
    ephemerals: workspace.ephemerals,
    views: workspace.views,
    files: workspace.files,
    responses,
    setSocketModeUrl(url) {
      socketModeUrl = url;
    },
    failNext(method, fault, times = 1) {
      const q = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) q.push(fault);
      faults.set(method, q);
    },
    setUsergroupMembers: (groupId, userIds) => workspace.setUsergroupMembers(groupId, userIds),
    setUser: (userId, profile) => workspace.setUser(userId, profile),
    setChannelMembers: (channel, userIds) => workspace.setChannelMembers(channel, userIds),
    responseUrl(name = randomBytes(6).toString('hex')) {
      return `${origin}/hooks/${teamId}/${name}`;
    },
    callsTo(method) {
      return calls.filter((c) => c.method === method && c.ok);
    },
    waitForCall(method, match = () => true, timeoutMs = 5_000) {
      const past = calls.find((c) => c.method === method && c.ok && match(c));
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = {
          method,
          match,
          resolve: (c: FakeSlackCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`fake Slack: no successful ${method} within ${timeoutMs} ms (calls: ${calls.map((c) => `${c.method}${c.ok ? '' : `!${c.error ?? c.status}`}`).join(', ') || 'none'})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    reset() {
      calls.length = 0;
      responses.length = 0;
      faults.clear();
      workspace.reset();
    },
    close() {
      for (const w of waiters) waiters.delete(w);
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
