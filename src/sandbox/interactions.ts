/**
 * What a person does on the sandbox page, turned into the request Slack would
 * send: a button click becomes a signed `block_actions` payload, a modal's
 * submit a `view_submission`, a typed `/airlock …` a slash command — each
 * POSTed over HTTP to Airlock's own `/slack/events`, so Airlock's receiver,
 * signature check and listeners decide exactly as they do for real Slack.
 * Airlock's answer comes back as Slack would use it: a modal's validation
 * errors stay on the modal, a slash command's reply becomes an ephemeral.
 */
import { randomBytes } from 'node:crypto';
import { AirlockError } from '../errors.ts';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from './roster.ts';
import { blockActionsPayload, interactivityBody, signedFormRequest, slashCommandPayload, viewSubmissionPayload } from './slack-requests.ts';
import type { SlackWorkspace } from './workspace.ts';

type Json = Record<string, unknown>;

/** One thing done on the page. */
export type SandboxAction =
  | { kind: 'button'; user: string; ts: string; actionId: string; value: string }
  | { kind: 'submit'; user: string; viewId: string; values: Record<string, Record<string, string>> }
  | { kind: 'close'; user: string; viewId: string }
  | { kind: 'command'; user: string; text: string };

/** What Airlock answered, as the page shows it. */
export interface SandboxOutcome {
  /** HTTP status of Airlock's answer (0 when nothing was sent). */
  status: number;
  /** A modal's field errors (`response_action: errors`), keyed by block id. */
  errors?: Record<string, string>;
}

/** Where to send and how to sign. */
export interface InteractionOptions {
  workspace: SlackWorkspace;
  /** Airlock's `/slack/events` URL. */
  eventsUrl: string;
  signingSecret: string;
  /** Modals the page closed or Airlock's answer closed. */
  closedViews: Set<string>;
  /** A response URL for a slash command (posts land as the user's ephemerals). */
  responseUrl: (user: string) => string;
}

const refuse = (message: string) => new AirlockError('BAD_REQUEST', message);

function memberOf(user: string): { id: string; name: string } {
  const member = SANDBOX_USERS.find((u) => u.id === user);
  if (!member) throw refuse(`${user} is not a member of the sandbox workspace.`);
  return member;
}

async function send(opts: InteractionOptions, body: string): Promise<{ status: number; text: string }> {
  const request = signedFormRequest({ secret: opts.signingSecret, body });
  const res = await fetch(opts.eventsUrl, { method: 'POST', headers: { ...request.headers }, body: request.body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

function parsed(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** A click on a button that is on a message in the channel; anything else is refused before Airlock sees it. */
async function clickButton(opts: InteractionOptions, a: Extract<SandboxAction, { kind: 'button' }>): Promise<SandboxOutcome> {
  const member = memberOf(a.user);
  const message = opts.workspace.messages.get(a.ts);
  if (!message) throw refuse(`No message ${a.ts} in the channel.`);
  for (const block of message.blocks as Json[]) {
    if (block.type !== 'actions' || !Array.isArray(block.elements)) continue;
    const button = (block.elements as Json[]).find((e) => e.action_id === a.actionId && e.value === a.value);
    if (!button) continue;
    const payload = blockActionsPayload({
      userId: member.id,
      userName: member.name,
      actionId: a.actionId,
      value: a.value,
      blockId: String(block.block_id ?? ''),
      triggerId: opts.workspace.triggerFor(member.id),
      channel: message.channel,
      messageTs: a.ts,
      teamId: opts.workspace.teamId,
      message: { text: message.text, blocks: message.blocks },
      buttonText: String((button.text as Json | undefined)?.text ?? ''),
      ...(button.style === 'primary' || button.style === 'danger' ? { style: button.style } : {}),
    });
    return { status: (await send(opts, interactivityBody(payload))).status };
  }
  throw refuse('That button is no longer on the message (the card changed); look again.');
}

/** A modal's submit: Airlock's `errors` keep it open, anything else closes it. */
async function submitView(opts: InteractionOptions, a: Extract<SandboxAction, { kind: 'submit' }>): Promise<SandboxOutcome> {
  const member = memberOf(a.user);
  const opened = opts.workspace.views.find((v) => v.id === a.viewId && v.user === member.id && !opts.closedViews.has(v.id));
  if (!opened) throw refuse('That form is not open for this user.');
  const view = opened.view;
  const payload = viewSubmissionPayload({
    userId: member.id,
    userName: member.name,
    callbackId: String(view.callback_id ?? ''),
    privateMetadata: String(view.private_metadata ?? ''),
    values: a.values,
    viewId: opened.id,
    teamId: opts.workspace.teamId,
    blocks: Array.isArray(view.blocks) ? view.blocks : [],
  });
  const answer = await send(opts, interactivityBody(payload));
  const body = parsed(answer.text);
  if (answer.status === 200 && body?.response_action === 'errors' && typeof body.errors === 'object' && body.errors !== null) {
    return { status: answer.status, errors: body.errors as Record<string, string> };
  }
  opts.closedViews.add(opened.id);
  return { status: answer.status };
}

/** `/airlock …` typed in the channel: the reply in Airlock's ack is shown to the typist only, as Slack does. */
async function slashCommand(opts: InteractionOptions, a: Extract<SandboxAction, { kind: 'command' }>): Promise<SandboxOutcome> {
  const member = memberOf(a.user);
  const text = a.text.replace(/^\s*\/airlock\b/, '').trim();
  const fields = slashCommandPayload({
    userId: member.id,
    userName: member.name,
    command: '/airlock',
    text,
    channelId: SANDBOX_CHANNEL.id,
    teamId: opts.workspace.teamId,
    triggerId: opts.workspace.triggerFor(member.id),
    responseUrl: opts.responseUrl(member.id),
  });
  const answer = await send(opts, new URLSearchParams(fields).toString());
  const reply = parsed(answer.text);
  const shown = reply ? { text: typeof reply.text === 'string' ? reply.text : '', blocks: Array.isArray(reply.blocks) ? reply.blocks : [] } : { text: answer.text, blocks: [] };
  if (shown.text || shown.blocks.length) opts.workspace.call('chat.postEphemeral', { channel: SANDBOX_CHANNEL.id, user: member.id, ...shown });
  return { status: answer.status };
}

/** Do `action` as Slack would; throws BAD_REQUEST for what no Slack user could do. */
export async function perform(opts: InteractionOptions, action: SandboxAction): Promise<SandboxOutcome> {
  switch (action.kind) {
    case 'button':
      return clickButton(opts, action);
    case 'submit':
      return submitView(opts, action);
    case 'command':
      return slashCommand(opts, action);
    case 'close':
      memberOf(action.user);
      opts.closedViews.add(action.viewId);
      return { status: 0 };
  }
}

/** A response URL path token; unguessable so only Airlock, which got it in the payload, posts to it. */
export const responseToken = (): string => randomBytes(12).toString('hex');
