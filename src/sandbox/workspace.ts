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
 * Transport (HTTP, form or JSON bodies, the bearer token) is the caller's;
 * the methods themselves are in ./methods.ts.
 */
import { chatMethods, fileMethods, peopleMethods, viewMethods, type WorkspaceState } from './methods.ts';
import { triggerId } from './slack-requests.ts';
import type { SlackAnswer, SlackEphemeral, SlackFile, SlackMessage, SlackOpenedView, SlackProfile } from './slack-types.ts';

export type { SlackAnswer, SlackEphemeral, SlackFile, SlackMessage, SlackOpenedView, SlackProfile } from './slack-types.ts';

type Json = Record<string, unknown>;

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

/** How many issued trigger ids are remembered. */
const KEPT_TRIGGERS = 500;

/** An empty workspace's state, the listeners told of each change, and how a restored timestamp moves the ts clock on. */
function emptyState(opts: WorkspaceOptions): { state: WorkspaceState; listeners: Array<() => void>; sawTs(ts: string): void } {
  const listeners: Array<() => void> = [];
  let lastTsMicros = 0;
  const state: WorkspaceState = {
    teamId: opts.teamId ?? 'T0AIRLOCK',
    botUserId: opts.botUserId ?? 'U0AIRLOCKBOT',
    botId: opts.botId ?? 'B0AIRLOCK',
    triggerTtlMs: opts.triggerTtlMs ?? 3_000,
    origin: opts.origin,
    messages: new Map(),
    ephemerals: [],
    views: [],
    files: [],
    users: new Map(),
    usergroups: new Map(),
    channelMembers: new Map(),
    usedTriggers: new Set(),
    triggerUsers: new Map(),
    pendingUploads: new Map(),
    nextTs: () => {
      // Slack ts: seconds.microseconds, unique and increasing per channel.
      lastTsMicros = Math.max(lastTsMicros + 1, Date.now() * 1000);
      return `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
    },
    changed: () => {
      for (const l of listeners) l();
    },
  };
  return { state, listeners, sawTs: (ts) => void (lastTsMicros = Math.max(lastTsMicros, Math.round(Number(ts) * 1e6))) };
}

/** A workspace with no members, messages or groups yet. */
export function createWorkspace(opts: WorkspaceOptions): SlackWorkspace {
  const { state, listeners, sawTs } = emptyState(opts);
  const { teamId, botUserId, messages, ephemerals, views, files, users, usergroups, channelMembers, usedTriggers, triggerUsers, pendingUploads, changed } = state;
  const methods = { ...chatMethods(state), ...viewMethods(state), ...peopleMethods(state), ...fileMethods(state) };

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
      return impl ? impl(body) : { body: { ok: false, error: 'unknown_method' } };
    },
    triggerFor(user) {
      const trigger = triggerId();
      triggerUsers.set(trigger, user);
      // Most triggers (Approve clicks) never open a modal; keep the newest few hundred (they live ~3 s anyway).
      for (const old of triggerUsers.keys()) {
        if (triggerUsers.size <= KEPT_TRIGGERS) break;
        triggerUsers.delete(old);
      }
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
        sawTs(ts);
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
