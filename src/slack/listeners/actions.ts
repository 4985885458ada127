/**
 * The card's buttons. Approve records the vote at once; Deny opens the reason
 * modal (`views.ts` takes its submission). Both ack first: the click's answer
 * comes as an ephemeral message or a card update.
 */
import type { AllMiddlewareArgs, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { VoteOrigin } from '../../approvals/service.ts';
import { isAirlockError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { denyReasonModal } from '../presenters.ts';
import { type ListenerDeps, voterOf } from './deps.ts';

/** One value several fields of a payload must agree on; a conflict is itself a value that matches no card. */
function agreed(...values: Array<string | undefined>): string | undefined {
  const present = [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
  if (present.length > 1) return `(conflicting: ${present.join(' / ')})`;
  return present[0];
}

/** Where a button click says it came from: channel and message ts, each from every field that carries it. */
function buttonOrigin(body: unknown): VoteOrigin & { via: 'button' } {
  const b = body as { channel?: { id?: string }; container?: { channel_id?: string; message_ts?: string }; message?: { ts?: string } };
  const channel = agreed(b.channel?.id, b.container?.channel_id);
  const messageTs = agreed(b.container?.message_ts, b.message?.ts);
  return { via: 'button', ...(channel ? { channel } : {}), ...(messageTs ? { messageTs } : {}) };
}

/** An ephemeral message to the clicker; failures are logged, never thrown. */
async function ephemeral(logger: Logger, client: AllMiddlewareArgs['client'], channel: string | undefined, user: string, text: string): Promise<void> {
  if (!channel) return;
  await client.chat.postEphemeral({ channel, user, text }).catch((err: Error) => logger.warn({ component: 'slack', err: err.message }, 'ephemeral failed'));
}

/** Approve button: records the vote and refreshes the card, or tells the clicker why not. */
export function approveClicked(deps: ListenerDeps): Middleware<SlackActionMiddlewareArgs> {
  const { logger } = deps;
  return async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    const channel = 'channel' in body ? body.channel?.id : undefined;
    if (!id) return;
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'approve', { origin: buttonOrigin(body) });
      if (reply.outcome === 'recorded' || reply.outcome === 'approved' || reply.outcome === 'expired') {
        await deps.cards.changed(id, reply.outcome === 'expired' ? 'expired' : `vote-${reply.record.approval?.votes.length ?? 0}`);
      }
      if (reply.outcome !== 'recorded' && reply.outcome !== 'approved') await ephemeral(logger, client, channel, body.user.id, reply.message);
    } catch (err) {
      await ephemeral(logger, client, channel, body.user.id, isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.');
    }
  };
}

/**
 * Deny button: checks the card, then opens the reason modal within the
 * trigger's life and binds the modal to the card and the clicker.
 */
export function denyClicked(deps: ListenerDeps): Middleware<SlackActionMiddlewareArgs> {
  const { logger } = deps;
  return async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    if (!id || !('trigger_id' in body)) return;
    const origin = buttonOrigin(body);
    // trigger_id lives about 3 s: only the card check (one Redis read) comes before the modal; eligibility is checked on submit.
    try {
      const refused = await deps.approvals.denyClicked(id, { slackUserId: body.user.id }, origin);
      if (refused) {
        await ephemeral(logger, client, origin.channel, body.user.id, refused.message);
        return;
      }
    } catch (err) {
      await ephemeral(logger, client, origin.channel, body.user.id, isAirlockError(err) ? err.message : 'Airlock could not open the deny form; try again.');
      return;
    }
    const opened = await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(id) }).catch((err: Error) => {
      logger.warn({ component: 'slack', queryId: id, err: err.message }, 'could not open the deny modal');
      return undefined;
    });
    const viewId = opened?.view?.id;
    if (viewId) {
      await deps.approvals.modalOpened(id, viewId, body.user.id).catch((err: Error) => {
        logger.warn({ component: 'slack', queryId: id, err: err.message }, 'could not bind the deny modal to its card; its submission will be refused');
      });
    }
  };
}
