/**
 * Block Kit presenters: pure functions from Airlock data to Slack message JSON.
 * No I/O, no clock (callers pass `now`), and Slack's block types only as types
 * (erased at run time); every shape is checked against `limits.ts` in tests.
 *
 * This file is the presenters' public face, one import path for the Slack app,
 * card sync and tests; each concept lives in its own file under `presenters/`:
 * - `blocks.ts`: Block Kit types (Slack's own), text objects, block ids
 * - `mrkdwn.ts`: escaping, fitting text into limits, dates, durations, counts
 * - `sql.ts`: SQL in code blocks, cut into chunks
 * - `record-lines.ts`: lines about a record that several messages share
 * - `card.ts`: the approval card and its SQL thread replies
 * - `modal.ts`: the deny modal
 * - `summary.ts`: the audit summary in the card's thread
 * - `replies.ts`: `/airlock` replies and ephemeral messages
 */
export { escapeMrkdwn } from './presenters/mrkdwn.ts';
export { APPROVE_ACTION_ID, DENY_ACTION_ID, approvalCard, sqlThreadReplies } from './presenters/card.ts';
export { DENY_REASON_ACTION_ID, DENY_REASON_BLOCK_ID, DENY_REASON_CALLBACK_ID, denyReasonModal } from './presenters/modal.ts';
export { threadSummary } from './presenters/summary.ts';
export { pendingList, sessionList, showQuery, usage } from './presenters/replies.ts';
