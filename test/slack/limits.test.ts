import { describe, expect, it } from 'vitest';
import { denyReasonModal } from '../../src/slack/presenters/modal.ts';
import { checkMessage, checkView } from '../../src/slack/limits.ts';

describe('limits: checkMessage refuses what Slack refuses', () => {
  const section = (text: string, block_id?: string) => ({ type: 'section', text: { type: 'mrkdwn', text }, ...(block_id ? { block_id } : {}) });
  const cases: { name: string; blocks: unknown; text?: string; error: string; pointer: string }[] = [
    { name: '51 blocks', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })), error: 'invalid_blocks', pointer: '/blocks' },
    { name: 'section text over 3000', blocks: [section('x'.repeat(3001))], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'empty section text', blocks: [section('')], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'header over 150', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'mrkdwn header', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], error: 'invalid_blocks', pointer: '/blocks/0/text/type' },
    { name: 'duplicate block_id', blocks: [section('a', 'x'), section('b', 'x')], error: 'invalid_blocks', pointer: '/blocks/1/block_id' },
    { name: 'block_id over 255', blocks: [section('a', 'b'.repeat(256))], error: 'invalid_blocks', pointer: '/blocks/0/block_id' },
    {
      name: 'button value over 2000',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' }, action_id: 'a', value: 'v'.repeat(2001) }] }],
      error: 'invalid_blocks',
      pointer: '/blocks/0/elements/0/value',
    },
    {
      name: 'duplicate action_id in a block',
      blocks: [{ type: 'actions', elements: ['a', 'b'].map((t) => ({ type: 'button', text: { type: 'plain_text', text: t }, action_id: 'same' })) }],
      error: 'invalid_blocks',
      pointer: '/blocks/0/elements/1/action_id',
    },
    { name: 'input block in a message', blocks: [{ type: 'input', label: { type: 'plain_text', text: 'x' }, element: { type: 'plain_text_input', action_id: 'a' } }], error: 'invalid_blocks', pointer: '/blocks/0/type' },
    { name: 'unknown block type', blocks: [{ type: 'table' }], error: 'invalid_blocks', pointer: '/blocks/0/type' },
    { name: 'text over 40000', blocks: undefined, text: 'x'.repeat(40_001), error: 'msg_too_long', pointer: '/text' },
    { name: 'no text, no blocks', blocks: undefined, text: '', error: 'no_text', pointer: '/text' },
    { name: 'cumulative block text over 12000', blocks: Array.from({ length: 5 }, () => section('x'.repeat(2900))), error: 'msg_blocks_too_long', pointer: '/blocks' },
  ];
  it.each(cases)('$name → $error', ({ blocks, text, error, pointer }) => {
    expect(checkMessage(blocks, text ?? 'fallback')).toContainEqual(expect.objectContaining({ error, pointer }));
  });

  it('accepts a plain valid message', () => {
    expect(checkMessage([section('hello'), { type: 'divider' }], 'hello')).toEqual([]);
    expect(checkMessage(undefined, 'just text')).toEqual([]);
  });

  it('checkView refuses a long title and a modal input without submit', () => {
    const v = { ...denyReasonModal('q'), title: { type: 'plain_text', text: 't'.repeat(25) } };
    expect(checkView(v)).toContainEqual(expect.objectContaining({ pointer: '/view/title/text' }));
    const { submit: _drop, ...noSubmit } = denyReasonModal('q');
    expect(checkView(noSubmit)).toContainEqual(expect.objectContaining({ pointer: '/view/submit' }));
  });
});
