/**
 * Slack as Airlock's receiver sees it: the one signer/clicker of the
 * end-to-end suites. It sends correctly signed requests to `/slack/events`
 * (Approve and Deny clicks on a card, the deny modal's submission, `/airlock`
 * commands, or any body a test makes up) and returns what Airlock answered.
 * The payloads are those of ./slack-sign.ts, which builds them as Slack does;
 * over Socket Mode, a test sends the same payloads through the fake socket.
 */
import { APPROVE_ACTION_ID, DENY_ACTION_ID, DENY_REASON_ACTION_ID, DENY_REASON_BLOCK_ID, DENY_REASON_CALLBACK_ID } from '../../src/slack/presenters.ts';
import { blockActionsPayload, interactivityBody, signedFormRequest, slashCommandBody, viewSubmissionPayload } from './slack-sign.ts';

/** The card button a click presses. */
export type CardButton = 'approve' | 'deny';

/**
 * Where a click comes from: the card's channel (default: the approval
 * channel) and ts. `payload` may alter the payload before it is signed, to
 * forge a click out of place.
 */
export interface ClickFrom {
  channel?: string;
  ts: string;
  payload?: (p: Record<string, any>) => void; // Slack's JSON, edited freely by attack tests
}

/** The `block_actions` payload of a click on the Approve or Deny button of query `id`'s card. */
export function cardClickPayload(user: string, id: string, from: { channel: string; ts: string }, button: CardButton = 'approve'): Record<string, any> {
  return blockActionsPayload({ userId: user, actionId: button === 'approve' ? APPROVE_ACTION_ID : DENY_ACTION_ID, value: id, channel: from.channel, messageTs: from.ts });
}

/** The `view_submission` payload of the deny modal for query `id`, with `reason` typed in (`viewId`: the modal Slack opened). */
export function denyReasonPayload(user: string, id: string, reason: string, viewId?: string): Record<string, unknown> {
  return viewSubmissionPayload({
    userId: user,
    ...(viewId !== undefined ? { viewId } : {}),
    callbackId: DENY_REASON_CALLBACK_ID,
    privateMetadata: id,
    values: { [DENY_REASON_BLOCK_ID]: { [DENY_REASON_ACTION_ID]: reason } },
  });
}

/** Airlock's answer: status and body text. */
export interface SlackAnswer {
  status: number;
  text: string;
}

/** Signed requests from Slack to one Airlock process. */
export interface SlackClient {
  /** POST `body` to /slack/events, signed with the client's secret (or `secret`) at now (or `timestamp`, Unix seconds). */
  post(body: string, options?: { secret?: string; timestamp?: number; contentType?: string }): Promise<SlackAnswer>;
  /** The form body of a click, to post more than once or elsewhere. */
  clickBody(user: string, id: string, from: ClickFrom, button?: CardButton): string;
  /** A signed Approve (default) or Deny click; returns the status. */
  click(user: string, id: string, from: ClickFrom, button?: CardButton): Promise<number>;
  /** A signed submission of the deny modal. */
  denyReason(user: string, id: string, reason: string, viewId?: string): Promise<SlackAnswer>;
  /** A signed `/airlock …` command, from the approval channel unless `channel` says otherwise. */
  command(user: string, text: string, channel?: string): Promise<SlackAnswer>;
}

/** A client for the Airlock process at `url` (its origin), signing with `secret`; `channel` is the approval channel. */
export function slackClient(opts: { url: string; secret: string; channel: string }): SlackClient {
  const client: SlackClient = {
    async post(body, options = {}) {
      const req = signedFormRequest({ secret: options.secret ?? opts.secret, body, ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}) });
      const headers = { ...req.headers, ...(options.contentType ? { 'content-type': options.contentType } : {}) };
      const res = await fetch(`${opts.url}/slack/events`, { method: 'POST', headers, body: req.body });
      return { status: res.status, text: await res.text() };
    },
    clickBody(user, id, from, button = 'approve') {
      const payload = cardClickPayload(user, id, { channel: from.channel ?? opts.channel, ts: from.ts }, button);
      from.payload?.(payload);
      return interactivityBody(payload);
    },
    async click(user, id, from, button) {
      return (await client.post(client.clickBody(user, id, from, button))).status;
    },
    denyReason(user, id, reason, viewId) {
      return client.post(interactivityBody(denyReasonPayload(user, id, reason, viewId)));
    },
    command(user, text, channel = opts.channel) {
      return client.post(slashCommandBody({ userId: user, command: '/airlock', text, channelId: channel }));
    },
  };
  return client;
}
