/**
 * A local fake of the Slack Web API for tests, the bench and the sandbox.
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
import { checkMessage, checkView } from '../../src/slack/limits.ts';

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
export interface FakeSlackMessage {
  channel: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** How many times chat.update replaced it. */
  edits: number;
  /** block_ids a later update reused from the previous version (they should be fresh). */
  reusedBlockIds: string[];
}

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
  ephemerals: { channel: string; user: string; text: string; blocks: unknown[]; thread_ts?: string; at: number }[];
  views: { trigger_id: string; view: Record<string, unknown>; id: string; at: number }[];
  files: { id: string; filename: string; title?: string; content: string; channel?: string; thread_ts?: string }[];
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
  setUser(userId: string, profile: { email?: string; name?: string; realName?: string; isBot?: boolean; deleted?: boolean }): void;
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
type Answer = { status?: number; body: Json; headers?: Record<string, string> };

/** Fields web-api JSON-encodes inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'files', 'metadata', 'users', 'file_uploads']);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer, contentType: string): Json {
  if (raw.length === 0) return {};
  if (contentType.includes('application/json')) {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Json) : {};
  }
  const out: Json = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
    if (JSON_FIELDS.has(k) && /^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // Slack would reject it; keep the string so the validator complains.
      }
    }
    out[k] = v;
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** Starts the fake on 127.0.0.1 (a free port unless `opts.port`). */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamId = opts.teamId ?? 'T0AIRLOCK';
  const botUserId = opts.botUserId ?? 'U0AIRLOCKBOT';
  const botId = opts.botId ?? 'B0AIRLOCK';
  const triggerTtlMs = opts.triggerTtlMs ?? 3_000;

  const calls: FakeSlackCall[] = [];
  const messages = new Map<string, FakeSlackMessage>();
  const ephemerals: FakeSlack['ephemerals'] = [];
  const views: FakeSlack['views'] = [];
  const files: FakeSlack['files'] = [];
  const responses: FakeSlack['responses'] = [];
  const faults = new Map<string, FakeSlackFault[]>();
  const usergroups = new Map<string, string[]>();
  const users = new Map<string, { email?: string; name?: string; realName?: string; isBot?: boolean; deleted?: boolean }>();
  const channelMembers = new Map<string, string[]>();
  const usedTriggers = new Set<string>();
  let socketModeUrl: string | undefined;
  const pendingUploads = new Map<string, { filename: string; content?: string }>();
  const waiters = new Set<{ method: string; match: (c: FakeSlackCall) => boolean; resolve: (c: FakeSlackCall) => void }>();

  let lastTsMicros = 0;
  const nextTs = (): string => {
    // Slack ts: seconds.microseconds, unique and increasing per channel.
    lastTsMicros = Math.max(lastTsMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
  };

  let origin = '';
  const fail = (error: string, extra: Json = {}): Answer => ({ body: { ok: false, error, ...extra } });

  function limitsError(problems: ReturnType<typeof checkMessage>): Answer | undefined {
    if (!problems.length) return undefined;
    const first = problems.find((p) => p.error !== 'invalid_blocks') ?? problems[0];
    if (!first) return undefined;
    const errors = problems.filter((p) => p.error === first.error).map((p) => `${p.message} [json-pointer:${p.pointer}]`);
    return fail(first.error, { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
  }

  const userObject = (id: string): Json => {
    const u = users.get(id) ?? {};
    const name = u.name ?? id.toLowerCase();
    return {
      id,
      team_id: teamId,
      name,
      deleted: u.deleted ?? false,
      real_name: u.realName ?? name,
      is_bot: u.isBot ?? false,
      is_app_user: false,
      tz: 'Etc/UTC',
      profile: { email: u.email, real_name: u.realName ?? name, display_name: name, team: teamId },
    };
  };

  function messageJson(ts: string, m: FakeSlackMessage): Json {
    return { type: 'message', user: botUserId, bot_id: botId, text: m.text, blocks: m.blocks, ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), team: teamId };
  }

  const methods: Record<string, (b: Json) => Answer> = {
    'api.test': (b) => ({ body: { ok: true, args: b } }),
    'auth.test': () => ({
      body: { ok: true, url: `${origin}/`, team: 'Airlock Test', user: 'airlock', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false },
    }),
    'chat.postMessage': (b) => {
      const channel = str(b.channel);
      if (!channel) return fail('channel_not_found');
      const text = str(b.text) ?? '';
      const blocks = b.blocks;
      const bad = limitsError(checkMessage(blocks, text));
      if (bad) return bad;
      const thread = str(b.thread_ts);
      if (thread) {
        const parent = messages.get(thread);
        if (!parent || parent.channel !== channel) return fail('thread_not_found');
      }
      const ts = nextTs();
      const m: FakeSlackMessage = { channel, text, blocks: Array.isArray(blocks) ? blocks : [], edits: 0, reusedBlockIds: [], ...(thread ? { thread_ts: thread } : {}) };
      messages.set(ts, m);
      return { body: { ok: true, channel, ts, message: messageJson(ts, m) } };
    },
    'chat.update': (b) => {
      const channel = str(b.channel);
      const ts = str(b.ts);
      if (!channel) return fail('channel_not_found');
      const m = ts ? messages.get(ts) : undefined;
      if (!ts || !m || m.channel !== channel) return fail('message_not_found');
      const text = str(b.text) ?? m.text;
      const blocks = b.blocks !== undefined ? b.blocks : m.blocks;
      const bad = limitsError(checkMessage(blocks, text));
      if (bad) return bad;
      const before = new Set(m.blocks.map((x) => (x as Json).block_id).filter((x): x is string => typeof x === 'string'));
      const next = Array.isArray(blocks) ? blocks : [];
      const reused = next.map((x) => (x as Json).block_id).filter((x): x is string => typeof x === 'string' && before.has(x));
      const updated: FakeSlackMessage = { ...m, text, blocks: next, edits: m.edits + 1, reusedBlockIds: reused };
      messages.set(ts, updated);
      return { body: { ok: true, channel, ts, text, message: messageJson(ts, updated) } };
    },
    'chat.postEphemeral': (b) => {
      const channel = str(b.channel);
      const user = str(b.user);
      if (!channel) return fail('channel_not_found');
      if (!user) return fail('user_not_found');
      const text = str(b.text) ?? '';
      const bad = limitsError(checkMessage(b.blocks, text));
      if (bad) return bad;
      const thread = str(b.thread_ts);
      ephemerals.push({ channel, user, text, blocks: Array.isArray(b.blocks) ? b.blocks : [], at: Date.now(), ...(thread ? { thread_ts: thread } : {}) });
      return { body: { ok: true, message_ts: nextTs() } };
    },
    'chat.getPermalink': (b) => {
      const channel = str(b.channel);
      const ts = str(b.message_ts);
      const m = ts ? messages.get(ts) : undefined;
      if (!channel || !ts || !m || m.channel !== channel) return fail('message_not_found');
      return { body: { ok: true, channel, permalink: `${origin}/archives/${channel}/p${ts.replace('.', '')}` } };
    },
    'views.open': (b) => {
      const trigger = str(b.trigger_id);
      if (!trigger) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
      const view = b.view;
      if (typeof view !== 'object' || view === null) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view'] } });
      if (usedTriggers.has(trigger)) return fail('exchanged_trigger_id');
      const issued = Number(trigger.split('.')[0]);
      if (triggerTtlMs > 0 && issued > 1e12 && Date.now() - issued > triggerTtlMs) return fail('expired_trigger_id');
      const problems = checkView(view);
      if (problems.length) return fail('invalid_arguments', { response_metadata: { messages: problems.map((p) => `[ERROR] ${p.message} [json-pointer:${p.pointer}]`) } });
      usedTriggers.add(trigger);
      const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
      views.push({ trigger_id: trigger, view: view as Json, id, at: Date.now() });
      return { body: { ok: true, view: { id, team_id: teamId, ...(view as Json), state: { values: {} }, hash: `${Date.now()}.x`, root_view_id: id, app_id: 'A0AIRLOCK', bot_id: botId } } };
    },
    'users.info': (b) => {
      const id = str(b.user);
      if (!id || !users.has(id)) return fail('user_not_found');
      return { body: { ok: true, user: userObject(id) } };
    },
    'users.lookupByEmail': (b) => {
      const email = str(b.email)?.toLowerCase();
      const found = [...users].find(([, u]) => u.email?.toLowerCase() === email);
      if (!email || !found) return fail('users_not_found');
      return { body: { ok: true, user: userObject(found[0]) } };
    },
    'usergroups.users.list': (b) => {
      const id = str(b.usergroup);
      const members = id ? usergroups.get(id) : undefined;
      if (!members) return fail('no_such_subteam');
      return { body: { ok: true, users: [...members] } };
    },
    'conversations.members': (b) => {
      const channel = str(b.channel);
      if (!channel) return fail('channel_not_found');
      const members = channelMembers.get(channel) ?? [...users.keys()];
      const limit = Number(str(b.limit) ?? 100) || 100;
      const start = Number(str(b.cursor) ?? 0) || 0;
      const page = members.slice(start, start + limit);
      const next = start + limit < members.length ? String(start + limit) : '';
      return { body: { ok: true, members: page, response_metadata: { next_cursor: next } } };
    },
    'files.getUploadURLExternal': (b) => {
      const filename = str(b.filename);
      if (!filename || !str(b.length)) return fail('invalid_arguments');
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      pendingUploads.set(id, { filename });
      return { body: { ok: true, upload_url: `${origin}/upload/${id}`, file_id: id } };
    },
    'files.completeUploadExternal': (b) => {
      const list = Array.isArray(b.files) ? (b.files as Json[]) : [];
      if (!list.length) return fail('invalid_arguments');
      const done: Json[] = [];
      for (const f of list) {
        const id = str(f.id) ?? '';
        const up = pendingUploads.get(id);
        if (!up || up.content === undefined) return fail('file_not_found');
        pendingUploads.delete(id);
        const channel = str(b.channel_id);
        const thread = str(b.thread_ts);
        const title = str(f.title);
        files.push({ id, filename: up.filename, content: up.content, ...(title ? { title } : {}), ...(channel ? { channel } : {}), ...(thread ? { thread_ts: thread } : {}) });
        done.push({ id, name: up.filename, title: title ?? up.filename });
      }
      return { body: { ok: true, files: done } };
    },
  };

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
      const up = pendingUploads.get(id);
      if (!up) return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
      if (contentType.includes('multipart/form-data')) {
        const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
        const part = [...form.values()][0];
        up.content = typeof part === 'string' ? part : part ? await part.text() : '';
      } else {
        up.content = raw.toString('utf8');
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
      let body: Json = {};
      try {
        body = parseBody(raw, contentType.includes('json') || raw[0] === 0x7b ? 'application/json' : contentType);
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
      body = parseBody(raw, contentType);
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
    else {
      const impl = methods[method];
      ans = impl ? impl(body) : fail('unknown_method');
    }
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
    messages,
    ephemerals,
    views,
    files,
    responses,
    setSocketModeUrl(url) {
      socketModeUrl = url;
    },
    failNext(method, fault, times = 1) {
      const q = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) q.push(fault);
      faults.set(method, q);
    },
    setUsergroupMembers(groupId, userIds) {
      usergroups.set(groupId, [...userIds]);
    },
    setUser(userId, profile) {
      users.set(userId, { ...users.get(userId), ...profile });
    },
    setChannelMembers(channel, userIds) {
      channelMembers.set(channel, [...userIds]);
    },
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
      messages.clear();
      ephemerals.length = 0;
      views.length = 0;
      files.length = 0;
      responses.length = 0;
      faults.clear();
      usedTriggers.clear();
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
