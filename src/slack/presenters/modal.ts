/**
 * The deny modal: the Deny button opens it, the reason is required, and its
 * submission is the deny vote. Its ids are public (DESIGN §3): the Slack app
 * reads the reason at `view.state.values[DENY_REASON_BLOCK_ID][DENY_REASON_ACTION_ID]`. Pure.
 */
import { MAX_SECTION_TEXT } from '../limits.ts';
import { type ModalView, md, plain } from './blocks.ts';
import { code, fitText } from './mrkdwn.ts';

/** Deny modal `callback_id`. */
export const DENY_REASON_CALLBACK_ID = 'airlock_deny_reason';
/** Deny modal: the reason input's block; read `view.state.values[BLOCK][ACTION].value`. */
export const DENY_REASON_BLOCK_ID = 'airlock_deny_reason_block';
/** Deny modal: the reason input's action. */
export const DENY_REASON_ACTION_ID = 'airlock_deny_reason_input';
/** Longest deny reason accepted by the modal. */
const DENY_REASON_MAX_LENGTH = 1_000;

/** The modal the Deny button opens; the reason is required. */
export function denyReasonModal(queryId: string): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK_ID,
    private_metadata: queryId,
    title: plain('Deny query'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      { type: 'section', block_id: 'airlock_deny_intro', text: md(fitText(`You are denying query ${code(queryId)}. The agent sees your reason and may retry with a changed query.`, MAX_SECTION_TEXT, false)) },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK_ID,
        label: plain('Reason'),
        hint: plain('Shown to the agent and kept in the audit log.'),
        optional: false,
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION_ID,
          multiline: true,
          min_length: 1,
          max_length: DENY_REASON_MAX_LENGTH,
          placeholder: plain('e.g. Use a WHERE clause; do not read SSNs'),
        },
      },
    ],
  };
}
