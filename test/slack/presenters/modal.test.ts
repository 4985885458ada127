import { describe, expect, it } from 'vitest';
import { DENY_REASON_ACTION_ID, DENY_REASON_BLOCK_ID, DENY_REASON_CALLBACK_ID, denyReasonModal } from '../../../src/slack/presenters/modal.ts';
import { checkView } from '../../../src/slack/limits.ts';

describe('denyReasonModal', () => {
  it('asks for a required reason and carries the query id', () => {
    const v = denyReasonModal('q_42');
    expect(checkView(v)).toEqual([]);
    expect(v).toMatchObject({ type: 'modal', callback_id: DENY_REASON_CALLBACK_ID, private_metadata: 'q_42' });
    const input = v.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({ block_id: DENY_REASON_BLOCK_ID, optional: false, element: { type: 'plain_text_input', action_id: DENY_REASON_ACTION_ID, min_length: 1 } });
  });
});
