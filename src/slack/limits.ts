/**
 * Slack's message and Block Kit limits as constants, and a validator that
 * reports every breach the way Slack would refuse it. Presenters are tested
 * against it, and the test fake of the Web API answers with it, so a card that
 * passes here is a card Slack accepts.
 *
 * Pure: no I/O. Sources: Block Kit reference (per-field limits), chat.postMessage
 * (`msg_too_long`, `invalid_blocks`, `msg_blocks_too_long`), views.open
 * (`invalid_arguments`), and DESIGN §4.
 */

/** Blocks in one message. */
export const MAX_MESSAGE_BLOCKS = 50;
/** Blocks in one modal view. */
export const MAX_VIEW_BLOCKS = 100;
/** Top-level `text` of a message; longer is `msg_too_long`. */
export const MAX_MESSAGE_TEXT = 40_000;
/**
 * Cumulative text across all blocks of one message. Undocumented: Slack answers
 * `msg_blocks_too_long` past roughly 12,000 characters of block text ("12,000
 * text characters with a buffer for block containers", slackapi/bolt-js#2509).
 */
export const MAX_MESSAGE_BLOCKS_TEXT = 12_000;
/**
 * What presenters aim for: comfortably under {@link MAX_MESSAGE_BLOCKS_TEXT},
 * because Slack's own count is not published and includes container overhead.
 */
export const SAFE_MESSAGE_BLOCKS_TEXT = 10_000;
/** Section `text`, and any mrkdwn/plain text object in a section or context. */
export const MAX_SECTION_TEXT = 3_000;
/** Each of a section's `fields`. */
export const MAX_SECTION_FIELD_TEXT = 2_000;
/** Number of a section's `fields`. */
export const MAX_SECTION_FIELDS = 10;
/** Header block text (plain_text). */
export const MAX_HEADER_TEXT = 150;
/** Elements in a context block. */
export const MAX_CONTEXT_ELEMENTS = 10;
/** Elements in an actions block. */
export const MAX_ACTIONS_ELEMENTS = 25;
/** Button label. */
export const MAX_BUTTON_TEXT = 75;
/** Button `value` (store an id, not the SQL). */
export const MAX_BUTTON_VALUE = 2_000;
/** Button `url`. */
export const MAX_BUTTON_URL = 3_000;
/** `block_id` and `action_id`. */
export const MAX_ID = 255;
/** Modal title, submit and close labels. */
export const MAX_VIEW_TITLE = 24;
/** Modal `private_metadata`. */
export const MAX_PRIVATE_METADATA = 3_000;
/** Modal `callback_id`. */
export const MAX_CALLBACK_ID = 255;
/** Input block label and hint. */
export const MAX_INPUT_LABEL = 2_000;
/** plain_text_input `max_length` ceiling. */
export const MAX_PLAIN_TEXT_INPUT_LENGTH = 3_000;
/** Input placeholder. */
export const MAX_PLACEHOLDER = 150;

/** The error Slack answers with for a breach. */
export type SlackLimitError = 'invalid_blocks' | 'msg_too_long' | 'msg_blocks_too_long' | 'no_text' | 'invalid_arguments';

/** One breach: the Slack error it causes, where (JSON pointer), and why. */
export interface LimitProblem {
  error: SlackLimitError;
  pointer: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Length as Slack counts it: characters (code points), not UTF-16 units. */
export const charLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

class Collector {
  readonly problems: LimitProblem[] = [];
  constructor(private readonly error: SlackLimitError) {}
  add(pointer: string, message: string, error: SlackLimitError = this.error): void {
    this.problems.push({ error, pointer, message });
  }
}

function checkText(
  c: Collector,
  v: unknown,
  ptr: string,
  opts: { max: number; plainOnly?: boolean; required?: boolean },
): number {
  if (v === undefined) {
    if (opts.required !== false) c.add(ptr, 'missing required text object');
    return 0;
  }
  if (!isObject(v)) {
    c.add(ptr, 'must be a text object');
    return 0;
  }
  if (v.type !== 'plain_text' && v.type !== 'mrkdwn') c.add(`${ptr}/type`, `must be plain_text or mrkdwn, not ${String(v.type)}`);
  else if (opts.plainOnly && v.type !== 'plain_text') c.add(`${ptr}/type`, 'must be plain_text');
  if (typeof v.text !== 'string') {
    c.add(`${ptr}/text`, 'must be a string');
    return 0;
  }
  const len = charLength(v.text);
  if (len === 0) c.add(`${ptr}/text`, 'must be more than 0 characters');
  if (len > opts.max) c.add(`${ptr}/text`, `must be less than ${opts.max + 1} characters (is ${len})`);
  return len;
}

function checkId(c: Collector, v: unknown, ptr: string, required: boolean): void {
  if (v === undefined) {
    if (required) c.add(ptr, 'is required');
    return;
  }
  if (typeof v !== 'string' || v.length === 0) c.add(ptr, 'must be a non-empty string');
  else if (v.length > MAX_ID) c.add(ptr, `must be less than ${MAX_ID + 1} characters (is ${v.length})`);
}

function checkButton(c: Collector, el: Json, ptr: string): number {
  const len = checkText(c, el.text, `${ptr}/text`, { max: MAX_BUTTON_TEXT, plainOnly: true });
  checkId(c, el.action_id, `${ptr}/action_id`, false);
  if (el.value !== undefined) {
    if (typeof el.value !== 'string') c.add(`${ptr}/value`, 'must be a string');
    else if (el.value.length > MAX_BUTTON_VALUE) c.add(`${ptr}/value`, `must be less than ${MAX_BUTTON_VALUE + 1} characters`);
  }
  if (el.url !== undefined && (typeof el.url !== 'string' || el.url.length > MAX_BUTTON_URL)) c.add(`${ptr}/url`, 'invalid url');
  if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') c.add(`${ptr}/style`, 'must be primary or danger');
  return len;
}

function checkElement(c: Collector, el: unknown, ptr: string, actionIds: Set<string>): number {
  if (!isObject(el)) {
    c.add(ptr, 'must be an object');
    return 0;
  }
  if (typeof el.action_id === 'string') {
    if (actionIds.has(el.action_id)) c.add(`${ptr}/action_id`, `duplicate action_id ${el.action_id}`);
    actionIds.add(el.action_id);
  }
  switch (el.type) {
    case 'button':
      return checkButton(c, el, ptr);
    case 'plain_text_input': {
      checkId(c, el.action_id, `${ptr}/action_id`, false);
      if (el.max_length !== undefined && (typeof el.max_length !== 'number' || el.max_length > MAX_PLAIN_TEXT_INPUT_LENGTH))
        c.add(`${ptr}/max_length`, `must be at most ${MAX_PLAIN_TEXT_INPUT_LENGTH}`);
      if (el.min_length !== undefined && (typeof el.min_length !== 'number' || el.min_length < 0 || el.min_length > MAX_PLAIN_TEXT_INPUT_LENGTH))
        c.add(`${ptr}/min_length`, `must be between 0 and ${MAX_PLAIN_TEXT_INPUT_LENGTH}`);
      if (el.placeholder !== undefined) return checkText(c, el.placeholder, `${ptr}/placeholder`, { max: MAX_PLACEHOLDER, plainOnly: true });
      return 0;
    }
    case 'image':
      if (typeof el.image_url !== 'string' || typeof el.alt_text !== 'string') c.add(ptr, 'image needs image_url and alt_text');
      return 0;
    default:
      c.add(`${ptr}/type`, `unsupported element type ${String(el.type)}`);
      return 0;
  }
}

/**
 * Checks blocks against Block Kit; returns the cumulative text length counted.
 * `surface` decides which block types are allowed (input blocks only in views).
 */
function checkBlocks(c: Collector, blocks: unknown, surface: 'message' | 'view', ptrBase = '/blocks'): number {
  if (!Array.isArray(blocks)) {
    c.add(ptrBase, 'must be an array');
    return 0;
  }
  const max = surface === 'message' ? MAX_MESSAGE_BLOCKS : MAX_VIEW_BLOCKS;
  if (blocks.length > max) c.add(ptrBase, `must be less than ${max + 1} items (is ${blocks.length})`);
  const blockIds = new Set<string>();
  let total = 0;
  blocks.forEach((block, i) => {
    const ptr = `${ptrBase}/${i}`;
    if (!isObject(block)) {
      c.add(ptr, 'must be an object');
      return;
    }
    checkId(c, block.block_id, `${ptr}/block_id`, false);
    if (typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) c.add(`${ptr}/block_id`, `duplicate block_id ${block.block_id}`);
      blockIds.add(block.block_id);
    }
    const actionIds = new Set<string>();
    switch (block.type) {
      case 'header':
        total += checkText(c, block.text, `${ptr}/text`, { max: MAX_HEADER_TEXT, plainOnly: true });
        break;
      case 'divider':
        break;
      case 'section': {
        if (block.text === undefined && block.fields === undefined) c.add(ptr, 'section needs text or fields');
        if (block.text !== undefined) total += checkText(c, block.text, `${ptr}/text`, { max: MAX_SECTION_TEXT });
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) c.add(`${ptr}/fields`, 'must be an array');
          else {
            if (block.fields.length > MAX_SECTION_FIELDS) c.add(`${ptr}/fields`, `must be less than ${MAX_SECTION_FIELDS + 1} items`);
            block.fields.forEach((f, j) => {
              total += checkText(c, f, `${ptr}/fields/${j}`, { max: MAX_SECTION_FIELD_TEXT });
            });
          }
        }
        if (block.accessory !== undefined) total += checkElement(c, block.accessory, `${ptr}/accessory`, actionIds);
        break;
      }
      case 'context': {
        if (!Array.isArray(block.elements) || block.elements.length === 0) c.add(`${ptr}/elements`, 'must be a non-empty array');
        else {
          if (block.elements.length > MAX_CONTEXT_ELEMENTS) c.add(`${ptr}/elements`, `must be less than ${MAX_CONTEXT_ELEMENTS + 1} items`);
          block.elements.forEach((el, j) => {
            if (isObject(el) && el.type === 'image') checkElement(c, el, `${ptr}/elements/${j}`, actionIds);
            else total += checkText(c, el, `${ptr}/elements/${j}`, { max: MAX_SECTION_TEXT });
          });
        }
        break;
      }
      case 'actions': {
        if (!Array.isArray(block.elements) || block.elements.length === 0) c.add(`${ptr}/elements`, 'must be a non-empty array');
        else {
          if (block.elements.length > MAX_ACTIONS_ELEMENTS) c.add(`${ptr}/elements`, `must be less than ${MAX_ACTIONS_ELEMENTS + 1} items`);
          block.elements.forEach((el, j) => {
            total += checkElement(c, el, `${ptr}/elements/${j}`, actionIds);
          });
        }
        break;
      }
      case 'input': {
        if (surface !== 'view') c.add(`${ptr}/type`, 'input blocks are only allowed in views');
        total += checkText(c, block.label, `${ptr}/label`, { max: MAX_INPUT_LABEL, plainOnly: true });
        if (block.hint !== undefined) total += checkText(c, block.hint, `${ptr}/hint`, { max: MAX_INPUT_LABEL, plainOnly: true });
        if (block.element === undefined) c.add(`${ptr}/element`, 'is required');
        else total += checkElement(c, block.element, `${ptr}/element`, actionIds);
        break;
      }
      default:
        c.add(`${ptr}/type`, `unsupported block type ${String(block.type)}`);
    }
  });
  return total;
}

/**
 * Cumulative text of blocks as {@link checkMessage} counts it for
 * `msg_blocks_too_long`: every text object (headers, sections, fields, context,
 * buttons, labels).
 */
export function blocksTextLength(blocks: unknown): number {
  return checkBlocks(new Collector('invalid_blocks'), blocks, 'view');
}

/**
 * Every reason Slack would refuse `chat.postMessage` / `chat.update` /
 * `chat.postEphemeral` with these blocks and text; empty when it would accept.
 * `blocks` may be undefined (text-only message).
 */
export function checkMessage(blocks: unknown, text: unknown): LimitProblem[] {
  const c = new Collector('invalid_blocks');
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  if (typeof text === 'string' && charLength(text) > MAX_MESSAGE_TEXT)
    c.add('/text', `must be at most ${MAX_MESSAGE_TEXT} characters`, 'msg_too_long');
  if (!hasBlocks && (typeof text !== 'string' || text.trim() === '')) c.add('/text', 'text or blocks are required', 'no_text');
  if (blocks !== undefined) {
    const total = checkBlocks(c, blocks, 'message');
    if (total > MAX_MESSAGE_BLOCKS_TEXT)
      c.add('/blocks', `cumulative block text ${total} exceeds ${MAX_MESSAGE_BLOCKS_TEXT}`, 'msg_blocks_too_long');
  }
  return c.problems;
}

/** Every reason Slack would refuse `views.open` / `views.update` with this view. */
export function checkView(view: unknown): LimitProblem[] {
  const c = new Collector('invalid_arguments');
  if (!isObject(view)) {
    c.add('/view', 'must be an object');
    return c.problems;
  }
  if (view.type !== 'modal' && view.type !== 'home') c.add('/view/type', 'must be modal or home');
  if (view.type === 'modal') {
    checkText(c, view.title, '/view/title', { max: MAX_VIEW_TITLE, plainOnly: true });
    if (view.submit !== undefined) checkText(c, view.submit, '/view/submit', { max: MAX_VIEW_TITLE, plainOnly: true });
    if (view.close !== undefined) checkText(c, view.close, '/view/close', { max: MAX_VIEW_TITLE, plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) c.add('/view/submit', 'a modal with input blocks needs submit');
  }
  if (view.private_metadata !== undefined && (typeof view.private_metadata !== 'string' || view.private_metadata.length > MAX_PRIVATE_METADATA))
    c.add('/view/private_metadata', `must be a string of at most ${MAX_PRIVATE_METADATA} characters`);
  if (view.callback_id !== undefined && (typeof view.callback_id !== 'string' || view.callback_id.length > MAX_CALLBACK_ID))
    c.add('/view/callback_id', `must be a string of at most ${MAX_CALLBACK_ID} characters`);
  checkBlocks(c, view.blocks, 'view', '/view/blocks');
  return c.problems;
}
