/**
 * The Web API methods of the sandbox's workspace, in groups by what they
 * touch: messages (chat.*), modals (views.open), people (users.*, usergroups,
 * conversations.members, auth.test) and files. Each group is built on the
 * workspace's state (./workspace.ts) and answers as Slack does.
 */
import { randomBytes } from 'node:crypto';
import { checkMessage, checkView } from '../slack/limits.ts';
import { str } from './web-api-body.ts';
import type { SlackAnswer, SlackEphemeral, SlackFile, SlackMessage, SlackOpenedView, SlackProfile } from './slack-types.ts';

type Json = Record<string, unknown>;

/** A Web API method: the parsed body in, Slack's answer out. */
export type Method = (body: Json) => SlackAnswer;

/** What the methods read and change. */
export interface WorkspaceState {
  teamId: string;
  botUserId: string;
  botId: string;
  /** Lifetime of trigger ids (0: never expire). */
  triggerTtlMs: number;
  origin: () => string;
  messages: Map<string, SlackMessage>;
  ephemerals: SlackEphemeral[];
  views: SlackOpenedView[];
  files: SlackFile[];
  users: Map<string, SlackProfile>;
  usergroups: Map<string, string[]>;
  channelMembers: Map<string, string[]>;
  usedTriggers: Set<string>;
  /** Trigger ids the sandbox issued, and whose they are. */
  triggerUsers: Map<string, string>;
  pendingUploads: Map<string, { filename: string; content?: string }>;
  /** The next message ts (unique, increasing). */
  nextTs: () => string;
  /** Tell the listeners the channel changed. */
  changed: () => void;
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

/** chat.postMessage, chat.update, chat.postEphemeral, chat.getPermalink. */
export function chatMethods(s: WorkspaceState): Record<string, Method> {
  const { messages, ephemerals, teamId, botUserId, botId, origin, nextTs, changed } = s;
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

  return {
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
      return { body: { ok: true, channel, permalink: `${origin()}/archives/${channel}/p${ts.replace('.', '')}` } };
    },
  };
}

const missing = (field: string) => fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${field}`] } });

/** views.open: a modal for the user the trigger was issued to; a trigger is used once and lives ~3 s. */
export function viewMethods(s: WorkspaceState): Record<string, Method> {
  const { views, usedTriggers, triggerUsers, triggerTtlMs, teamId, botId, changed } = s;
  return {
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
  };
}

/** Who is who: auth.test, users.info, users.lookupByEmail, usergroups.users.list, conversations.members. */
export function peopleMethods(s: WorkspaceState): Record<string, Method> {
  const { users, usergroups, channelMembers, teamId, botUserId, botId, origin } = s;
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

  return {
    'api.test': (b) => ({ body: { ok: true, args: b } }),
    'auth.test': () => ({
      body: { ok: true, url: `${origin()}/`, team: 'Airlock Sandbox', user: 'airlock', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false },
    }),
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
  };
}

/** files.getUploadURLExternal and files.completeUploadExternal (the upload itself goes to the URL given). */
export function fileMethods(s: WorkspaceState): Record<string, Method> {
  const { files, pendingUploads, origin, changed } = s;
  function completeUploads(b: Json): SlackAnswer {
    const list = Array.isArray(b.files) ? (b.files as Json[]) : [];
    if (!list.length) return fail('invalid_arguments');
    const done: Json[] = [];
    for (const f of list) {
      if (typeof f !== 'object' || f === null) return fail('invalid_arguments');
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

  return {
    'files.getUploadURLExternal': (b) => {
      const filename = str(b.filename);
      if (!filename || !str(b.length)) return fail('invalid_arguments');
      const id = newId('F');
      pendingUploads.set(id, { filename });
      return { body: { ok: true, upload_url: `${origin()}/upload/${id}`, file_id: id } };
    },
    'files.completeUploadExternal': (b) => completeUploads(b),
  };
}
