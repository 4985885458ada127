/**
 * Block Kit shapes and constructors for the presenters: Slack's own types
 * (`@slack/types`, through Bolt's `types` namespace) narrowed to the blocks
 * Airlock sends, plain/mrkdwn text objects, and block ids that are fresh per
 * render. The import is type-only: erased at run time, so presenters stay pure.
 */
import type { types } from '@slack/bolt';

/** Plain text object. */
type PlainText = types.PlainTextElement;
/** mrkdwn text object (escape user data with `escapeMrkdwn`). */
export type Mrkdwn = types.MrkdwnElement;

/**
 * A block Airlock sends: the subset of Slack's `KnownBlock` that `limits.ts`
 * checks (input blocks only in modals).
 */
export type Block = types.HeaderBlock | types.SectionBlock | types.ContextBlock | types.ActionsBlock | types.DividerBlock | types.InputBlock;

/** A modal view (`views.open`). */
export type ModalView = types.ModalView;

/** A message: `text` is the notification / screen-reader fallback. */
export interface Message {
  text: string;
  blocks: Block[];
}

/** A plain text object; emoji shortcodes render. */
export const plain = (text: string): PlainText => ({ type: 'plain_text', text, emoji: true });
/** An mrkdwn text object; `text` must already be escaped where it holds user data. */
export const md = (text: string): Mrkdwn => ({ type: 'mrkdwn', text });

/**
 * Block ids for one render: `al.<prefix>.<name>.<n>`. A fresh prefix per render
 * makes `chat.update` always re-render (DESIGN §4).
 */
export class Ids {
  private n = 0;
  constructor(private readonly prefix: string) {}
  /** The next block id, at most 255 characters. */
  next(name: string): string {
    return `al.${this.prefix}.${name}.${this.n++}`.slice(0, 255);
  }
}
