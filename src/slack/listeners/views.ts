/**
 * The deny modal's submission: the deny vote. Unlike the other listeners it
 * acks last, because a refusal is answered as an error on the reason field.
 */
import type { Middleware, SlackViewMiddlewareArgs } from '@slack/bolt';
import { isAirlockError } from '../../errors.ts';
import { DENY_REASON_ACTION_ID, DENY_REASON_BLOCK_ID } from '../presenters.ts';
import { type ListenerDeps, voterOf } from './deps.ts';

/** Deny modal submitted: records the deny vote with its reason and refreshes the card. */
export function denyReasonSubmitted(deps: ListenerDeps): Middleware<SlackViewMiddlewareArgs> {
  return async ({ ack, body, view }) => {
    const id = view.private_metadata;
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: 'Say why, so the agent can fix its query.' } });
      return;
    }
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'deny', { reason, origin: { via: 'modal', viewId: body.view.id } });
      if (reply.outcome === 'rejected' || reply.outcome === 'expired') {
        await ack();
        await deps.cards.changed(id, reply.outcome);
        return;
      }
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: reply.message } });
    } catch (err) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.' } });
    }
  };
}
