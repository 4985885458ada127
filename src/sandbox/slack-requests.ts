/**
 * Builds and signs requests exactly as Slack sends them to an app's request
 * URL: interactivity (`block_actions`, `view_submission`) as
 * `application/x-www-form-urlencoded` with one `payload=<json>` field, slash
 * commands as plain form fields, every request signed with
 * `v0=hex(HMAC_SHA256(signingSecret, "v0:{ts}:{raw body}"))`.
 *
 * The sandbox page's clicks, modal submissions and `/airlock` commands become
 * these requests (see ./interactions.ts); the test suites send the same ones.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Headers Slack adds to every request it sends. */
export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** Signs a raw body; `timestamp` is Unix seconds (default: now). */
export function signSlackRequest(opts: { secret: string; body: string; timestamp?: number }): SlackSignatureHeaders {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const hmac = createHmac('sha256', opts.secret).update(`v0:${ts}:${opts.body}`).digest('hex');
  return { 'x-slack-signature': `v0=${hmac}`, 'x-slack-request-timestamp': ts };
}

/** A signed form-encoded request, ready for `fetch(url, {method: 'POST', ...})` or `fastify.inject`. */
export function signedFormRequest(opts: { secret: string; body: string; timestamp?: number }): {
  body: string;
  headers: SlackSignatureHeaders & { 'content-type': string };
} {
  return {
    body: opts.body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(opts) },
  };
}

/** The form body of an interactivity request: `payload=<url-encoded JSON>`. */
export function interactivityBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

const DEFAULT_TEAM = 'T0AIRLOCK';
const DEFAULT_APP = 'A0AIRLOCK';

/**
 * A trigger id shaped like Slack's (`<digits>.<digits>.<hex>`). The first part
 * is the issue time in ms, which the fake Slack uses to expire it after ~3 s.
 */
export function triggerId(issuedAtMs = Date.now()): string {
  return `${issuedAtMs}.${Math.floor(Math.random() * 1e12)}.${randomBytes(16).toString('hex')}`;
}

const actionTs = (): string => (Date.now() / 1000).toFixed(6);

/** Options of {@link blockActionsPayload}. */
export interface BlockActionsOptions {
  userId: string;
  userName?: string;
  actionId: string;
  value: string;
  /** block_id of the button's block as the card had it. */
  blockId?: string;
  triggerId?: string;
  channel: string;
  messageTs: string;
  teamId?: string;
  /** The message as Slack includes it (text and blocks of the card clicked). */
  message?: { text?: string; blocks?: unknown[] };
  responseUrl?: string;
  /** Button label and style as sent on the card. */
  buttonText?: string;
  style?: 'primary' | 'danger';
}

/** A `block_actions` payload for one button click on a message, as Slack sends it. */
export function blockActionsPayload(o: BlockActionsOptions): Record<string, unknown> {
  const teamId = o.teamId ?? DEFAULT_TEAM;
  const userName = o.userName ?? o.userId.toLowerCase();
  return {
    type: 'block_actions',
    user: { id: o.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: DEFAULT_APP,
    token: 'verification-token-deprecated',
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false },
    trigger_id: o.triggerId ?? triggerId(),
    team: { id: teamId, domain: 'airlock-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: 'airlock-approvals' },
    message: {
      type: 'message',
      subtype: 'bot_message',
      ts: o.messageTs,
      text: o.message?.text ?? '',
      bot_id: 'B0AIRLOCK',
      blocks: o.message?.blocks ?? [],
    },
    state: { values: {} },
    response_url: o.responseUrl ?? `https://hooks.slack.com/actions/${teamId}/1/${randomBytes(12).toString('hex')}`,
    actions: [
      {
        action_id: o.actionId,
        block_id: o.blockId ?? 'airlock.actions',
        text: { type: 'plain_text', text: o.buttonText ?? (o.actionId === 'airlock_deny' ? 'Deny' : 'Approve'), emoji: true },
        value: o.value,
        ...(o.style || o.actionId === 'airlock_approve' || o.actionId === 'airlock_deny'
          ? { style: o.style ?? (o.actionId === 'airlock_deny' ? 'danger' : 'primary') }
          : {}),
        type: 'button',
        action_ts: actionTs(),
      },
    ],
  };
}

/** Values typed into a modal: `{blockId: {actionId: 'text' | element state}}`. */
export type ViewValues = Record<string, Record<string, string | Record<string, unknown>>>;

/** Options of {@link viewSubmissionPayload}. */
export interface ViewSubmissionOptions {
  userId: string;
  userName?: string;
  callbackId: string;
  privateMetadata: string;
  values: ViewValues;
  viewId?: string;
  teamId?: string;
  triggerId?: string;
  /** The view's blocks as opened (optional; Slack includes them). */
  blocks?: unknown[];
}

/** A `view_submission` payload for a modal's submit, as Slack sends it. */
export function viewSubmissionPayload(o: ViewSubmissionOptions): Record<string, unknown> {
  const teamId = o.teamId ?? DEFAULT_TEAM;
  const userName = o.userName ?? o.userId.toLowerCase();
  const viewId = o.viewId ?? `V${randomBytes(5).toString('hex').toUpperCase()}`;
  const values: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [blockId, actions] of Object.entries(o.values)) {
    values[blockId] = {};
    for (const [actionId, v] of Object.entries(actions)) {
      values[blockId][actionId] = typeof v === 'string' ? { type: 'plain_text_input', value: v } : v;
    }
  }
  return {
    type: 'view_submission',
    team: { id: teamId, domain: 'airlock-test' },
    user: { id: o.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: DEFAULT_APP,
    token: 'verification-token-deprecated',
    trigger_id: o.triggerId ?? triggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: o.blocks ?? [],
      private_metadata: o.privateMetadata,
      callback_id: o.callbackId,
      state: { values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: 'Deny query', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Deny', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: DEFAULT_APP,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B0AIRLOCK',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** Options of {@link slashCommandBody}. */
export interface SlashCommandOptions {
  userId: string;
  userName?: string;
  command: string;
  text: string;
  channelId: string;
  teamId?: string;
  triggerId?: string;
  responseUrl?: string;
}

/** The fields Slack sends for a slash command: form fields over HTTP, the envelope's payload over Socket Mode. */
export function slashCommandPayload(o: SlashCommandOptions): Record<string, string> {
  const teamId = o.teamId ?? DEFAULT_TEAM;
  return {
    token: 'verification-token-deprecated',
    team_id: teamId,
    team_domain: 'airlock-test',
    channel_id: o.channelId,
    channel_name: 'airlock-approvals',
    user_id: o.userId,
    user_name: o.userName ?? o.userId.toLowerCase(),
    command: o.command,
    text: o.text,
    api_app_id: DEFAULT_APP,
    is_enterprise_install: 'false',
    response_url: o.responseUrl ?? `https://hooks.slack.com/commands/${teamId}/1/${randomBytes(12).toString('hex')}`,
    trigger_id: o.triggerId ?? triggerId(),
  };
}

/** The form body Slack posts for a slash command. */
export function slashCommandBody(o: SlashCommandOptions): string {
  return new URLSearchParams(slashCommandPayload(o)).toString();
}
