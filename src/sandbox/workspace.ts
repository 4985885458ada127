/**
 * A Slack workspace in memory: the Web API methods Airlock calls, answered as
 * Slack answers them. The sandbox (`airlock dev` without SLACK_BOT_TOKEN)
 * serves it on Airlock's own HTTP server; the tests' fake Slack serves it on
 * a port of its own and adds faults and waiters around it. One implementation,
 * so the page people click and the suites that prove Airlock agree.
 *
 * Answers follow Slack: errors are HTTP 200 `{ok:false, error}`; messages are
 * checked with `../slack/limits.ts`, so a card that breaks Block Kit limits
 * fails here as it would in Slack (`invalid_blocks`, `msg_too_long`, …).
 * Transport (HTTP, form or JSON bodies, the bearer token) is the caller's.
 */
import { randomBytes } from 'node:crypto';
import { checkMessage, checkView } from '../slack/limits.ts';
import { triggerId } from './slack-requests.ts';
import { str } from './web-api-body.ts';

type Json = Record<string, unknown>;

/** An answer to one Web API call: HTTP status (200 unless said), JSON body, extra headers. */
export interface SlackAnswer {
  status?: number;
  body: Json;
  headers?: Record<string, string>;
}

/** A message as stored after chat.postMessage / chat.update. */
export interface SlackMessage {
  channel: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** How many times chat.update replaced it. */
  edits: number;
  /** block_ids a later update reused from the previous version (they should be fresh). */
  reusedBlockIds: string[];
}

/** An ephemeral message: only `user` sees it. */
export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  at: number;
}

/** A modal opened with views.open; `user` is who the trigger was issued to, when known. */
export interface SlackOpenedView {
  trigger_id: string;
  view: Json;
  id: string;
  at: number;
  user?: string;
}

/** A file shared with files.completeUploadExternal. */
export interface SlackFile {
  id: string;
  filename: string;
  title?: string;
  content: string;
  channel?: string;
  thread_ts?: string;
}

/** A member's profile as users.info shows it. */
export interface SlackProfile {
  email?: string;
  name?: string;
  realName?: string;
  isBot?: boolean;
  deleted?: boolean;
}

/** Options of {@link createWorkspace}. */
export interface WorkspaceOptions {
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Lifetime of trigger ids (0: never expire). Slack's is ~3 s. */
  triggerTtlMs?: number;
  /** Where the workspace is served (`http://host:port`), for permalinks and upload URLs. */
  origin: () => string;
}

/** What a workspace holds that a restart should keep: the channel's messages, ephemerals and modals. */
export interface WorkspaceSnapshot {
  messages: Array<[string, SlackMessage]>;
  ephemerals: SlackEphemeral[];
  views: SlackOpenedView[];
}

/** The workspace's state and its Web API. */
export interface SlackWorkspace {
  readonly teamId: string;
  readonly botUserId: string;
  readonly messages: Map<string, SlackMessage>;
  readonly ephemerals: SlackEphemeral[];
  readonly views: SlackOpenedView[];
  readonly files: SlackFile[];
  readonly users: Map<string, SlackProfile>;
  readonly usergroups: Map<string, string[]>;
  readonly channelMembers: Map<string, string[]>;
  /** Answer Web API `method` (the caller has checked the token). */
  call(method: string, body: Json): SlackAnswer;
  /** A trigger id for an interaction by `user` (a modal it opens is that user's). */
  triggerFor(user: string): string;
  /** The content of an upload to the URL files.getUploadURLExternal gave; false when the id is unknown. */
  upload(fileId: string, content: string): boolean;
  setUser(userId: string, profile: SlackProfile): void;
  setUsergroupMembers(groupId: string, userIds: string[]): void;
  setChannelMembers(channel: string, userIds: string[]): void;
  /** Called after every change of messages, ephemerals, views or files. */
  onChange(listener: () => void): void;
  /** Forget messages, ephemerals, views, files and used triggers (users and groups stay). */
  reset(): void;
  snapshot(): WorkspaceSnapshot;
  /** Put back what {@link snapshot} took (after a restart); new messages get later timestamps. */
  restore(snapshot: WorkspaceSnapshot): void;
}

const fail = (error: string, extra: Json = {}): SlackAnswer => ({ body: { ok: false, error, ...extra } });

function limitsError(problems: ReturnType<typeof checkMessage>): SlackAnswer | undefined {
  if (!problems.length) return undefined;
  const first = problems.find((p) => p.error !== 'invalid_blocks') ?? problems[0];
  if (!first) return undefined;
  const errors = problems.filter((p) => p.error === first.error).map((p) => `${p.message} [json-pointer:${p.pointer}]`);
  return fail(first.error, { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
}

const newId = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex').toUpperCase()}`;

/** A workspace with no members, messages or groups yet. */
export function createWorkspace(opts: WorkspaceOptions): SlackWorkspace {
  const teamId = opts.teamId ?? 'T0AIRLOCK';
  const botUserId = opts.botUserId ?? 'U0AIRLOCKBOT';
  const botId = opts.botId ?? 'B0AIRLOCK';
  const triggerTtlMs = opts.triggerTtlMs ?? 3_000;
  const messages = new Map<string, SlackMessage>();
  const ephemerals: SlackEphemeral[] = [];
  const views: SlackOpenedView[] = [];
  const files: SlackFile[] = [];
  const users = new Map<string, SlackProfile>();
  const usergroups = new Map<string, string[]>();
  const channelMembers = new Map<string, string[]>();
  const usedTriggers = new Set<string>();
  const triggerUsers = new Map<string, string>();
  const pendingUploads = new Map<string, { filename: string; content?: string }>();
  const listeners: Array<() => void> = [];
  const changed = () => {
    for (const l of listeners) l();
  };

  let lastTsMicros = 0;
  const nextTs = (): string => {
    // Slack ts: seconds.microseconds, unique and increasing per channel.
    lastTsMicros = Math.max(lastTsMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
  };

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

  const messageJson = (ts: string, m: SlackMessage): Json => ({
    type: 'message',
    user: botUserId,
    bot_id: botId,
    text: m.text,
    blocks: m.blocks,
    ts,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    team: teamId,
  });

  const chat: Record<string, (b: Json) => SlackAnswer> = {
    'chat.postMessage': (b) => {
      const channel = str(b.channel);
      if (!channel) return fail('channel_not_found');
      const text = str(b.text) ?? '';
      const bad = limitsError(checkMessage(b.blocks, text));
      if (bad) return bad;
      const thread = str(b.thread_ts);
      if (thread) {
        const parent = messages.get(thread);
        if (!parent || parent.channel !== channel) return fail('thread_not_found');
      }
      const ts = nextTs();
      const m: SlackMessage = { channel, text, blocks: Array.isArray(b.blocks) ? b.blocks : [], edits: 0, reusedBlockIds: [], ...(thread ? { thread_ts: thread } : {}) };
      messages.set(ts, m);
      changed();
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
      const updated: SlackMessage = { ...m, text, blocks: next, edits: m.edits + 1, reusedBlockIds: reused };
      messages.set(ts, updated);
      changed();
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
      changed();
      return { body: { ok: true, message_ts: nextTs() } };
    },
    'chat.getPermalink': (b) => {
      const channel = str(b.channel);
      const ts = str(b.message_ts);
      const m = ts ? messages.get(ts) : undefined;
      if (!channel || !ts || !m || m.channel !== channel) return fail('message_not_found');
      return { body: { ok: true, channel, permalink: `${opts.origin()}/archives/${channel}/p${ts.replace('.', '')}` } };
    },
  };

  const missing = (field: string) => fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${field}`] } });

  const others: Record<string, (b: Json) => SlackAnswer> = {
    'api.test': (b) => ({ body: { ok: true, args: b } }),
    'auth.test': () => ({
      body: { ok: true, url: `${opts.origin()}/`, team: 'Airlock Sandbox', user: 'airlock', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false },
    }),
    'views.open': (b) => {
      const trigger = str(b.trigger_id);
      if (!trigger) return missing('trigger_id');
      const view = b.view;
      if (typeof view !== 'object' || view === null) return missing('view');
      if (usedTriggers.has(trigger)) return fail('exchanged_trigger_id');
      const issued = Number(trigger.split('.')[0]);
      if (triggerTtlMs > 0 && issued > 1e12 && Date.now() - issued > triggerTtlMs) return fail('expired_trigger_id');
      const problems = checkView(view);
      if (problems.length) return fail('invalid_arguments', { response_metadata: { messages: problems.map((p) => `[ERROR] ${p.message} [json-pointer:${p.pointer}]`) } });
      usedTriggers.add(trigger);
      const id = newId('V');
      const user = triggerUsers.get(trigger);
      triggerUsers.delete(trigger);
      views.push({ trigger_id: trigger, view: view as Json, id, at: Date.now(), ...(user ? { user } : {}) });
      changed();
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
      const next = start + limit < members.length ? String(start + limit) : '';
      return { body: { ok: true, members: members.slice(start, start + limit), response_metadata: { next_cursor: next } } };
    },
    'files.getUploadURLExternal': (b) => {
      const filename = str(b.filename);
      if (!filename || !str(b.length)) return fail('invalid_arguments');
      const id = newId('F');
      pendingUploads.set(id, { filename });
      return { body: { ok: true, upload_url: `${opts.origin()}/upload/${id}`, file_id: id } };
    },
    'files.completeUploadExternal': (b) => completeUploads(b),
  };

  function completeUploads(b: Json): SlackAnswer {
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
    changed();
    return { body: { ok: true, files: done } };
  }

  const methods = { ...chat, ...others };

  return {
    teamId,
    botUserId,
    messages,
    ephemerals,
    views,
    files,
    users,
    usergroups,
    channelMembers,
    call(method, body) {
      const impl = methods[method];
      return impl ? impl(body) : fail('unknown_method');
    },
    triggerFor(user) {
      const trigger = triggerId();
      triggerUsers.set(trigger, user);
      return trigger;
    },
    upload(fileId, content) {
      const up = pendingUploads.get(fileId);
      if (!up) return false;
      up.content = content;
      return true;
    },
    setUser(userId, profile) {
      users.set(userId, { ...users.get(userId), ...profile });
    },
    setUsergroupMembers(groupId, userIds) {
      usergroups.set(groupId, [...userIds]);
    },
    setChannelMembers(channel, userIds) {
      channelMembers.set(channel, [...userIds]);
    },
    onChange(listener) {
      listeners.push(listener);
    },
    snapshot: () => ({ messages: [...messages], ephemerals: [...ephemerals], views: [...views] }),
    restore(snapshot) {
      for (const [ts, m] of snapshot.messages) {
        messages.set(ts, m);
        lastTsMicros = Math.max(lastTsMicros, Math.round(Number(ts) * 1e6));
      }
      ephemerals.push(...snapshot.ephemerals);
      views.push(...snapshot.views);
      changed();
    },
    reset() {
      messages.clear();
      ephemerals.length = 0;
      views.length = 0;
      files.length = 0;
      usedTriggers.clear();
      triggerUsers.clear();
      changed();
    },
  };
}
