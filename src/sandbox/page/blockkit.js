/**
 * Block Kit as Slack draws it, for the sandbox page: header, section (text,
 * fields, a button accessory), context, divider, actions (buttons with
 * primary/danger styles), rich_text (sections, code, quotes, lists), image
 * (alt text only) and, in modals, input blocks. Built with createElement and
 * text nodes only; mrkdwn goes through ./mrkdwn.js.
 */
import { decode, emojify, renderMrkdwn } from './mrkdwn.js';

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const c of children) node.append(c);
  return node;
}

/** A text object: mrkdwn rendered, plain_text as text (emoji shortcodes shown). */
export function textObject(obj, ctx) {
  if (!obj || typeof obj.text !== 'string') return document.createTextNode('');
  if (obj.type === 'mrkdwn') return renderMrkdwn(obj.text, ctx);
  return document.createTextNode(obj.emoji === false ? obj.text : emojify(obj.text));
}

function button(element, block, ctx) {
  const b = el('button', `bk-button${element.style ? ` bk-${element.style}` : ''}`, textObject(element.text, ctx));
  b.type = 'button';
  b.dataset.actionId = String(element.action_id ?? '');
  b.addEventListener('click', () => ctx.onButton?.(element, block, b));
  return b;
}

function richInline(elements, ctx) {
  const frag = document.createDocumentFragment();
  for (const e of elements ?? []) {
    let node;
    if (e.type === 'text') node = document.createTextNode(e.text ?? '');
    else if (e.type === 'link') {
      const href = String(e.url ?? '');
      node = /^(https?:|mailto:)/i.test(href) ? el('a', '', e.text ?? href) : document.createTextNode(e.text ?? href);
      if (node.tagName === 'A') {
        node.href = href;
        node.rel = 'noopener noreferrer';
        node.target = '_blank';
      }
    } else if (e.type === 'user') node = el('span', 'mention', `@${ctx.userName(e.user_id) ?? e.user_id}`);
    else if (e.type === 'usergroup') node = el('span', 'mention', `@${ctx.groupName(e.usergroup_id) ?? e.usergroup_id}`);
    else if (e.type === 'channel') node = el('span', 'mention', `#${e.channel_id}`);
    else if (e.type === 'emoji') node = document.createTextNode(emojify(`:${e.name}:`));
    else node = document.createTextNode('');
    const style = e.style ?? {};
    if (style.code) node = el('code', '', node);
    if (style.bold) node = el('strong', '', node);
    if (style.italic) node = el('em', '', node);
    if (style.strike) node = el('del', '', node);
    frag.append(node);
  }
  return frag;
}

function richText(block, ctx) {
  const box = el('div', 'bk-rich');
  for (const part of block.elements ?? []) {
    if (part.type === 'rich_text_preformatted') box.append(el('pre', '', richInline(part.elements, ctx)));
    else if (part.type === 'rich_text_quote') box.append(el('blockquote', '', richInline(part.elements, ctx)));
    else if (part.type === 'rich_text_list') {
      const list = el(part.style === 'ordered' ? 'ol' : 'ul');
      for (const item of part.elements ?? []) list.append(el('li', '', richInline(item.elements, ctx)));
      box.append(list);
    } else box.append(el('div', '', richInline(part.elements, ctx)));
  }
  return box;
}

function input(block, ctx) {
  const id = `in-${block.block_id}`;
  const label = el('label', 'bk-label', textObject(block.label, ctx));
  label.htmlFor = id;
  if (block.optional) label.append(el('span', 'bk-optional', ' (optional)'));
  const element = block.element ?? {};
  const field = element.multiline ? el('textarea') : el('input');
  field.id = id;
  field.name = `${block.block_id}/${element.action_id}`;
  if (element.placeholder) field.placeholder = decode(element.placeholder.text ?? '');
  if (element.max_length) field.maxLength = element.max_length;
  if (element.initial_value) field.value = element.initial_value;
  const box = el('div', 'bk-input', label, field);
  const error = ctx.errors?.[block.block_id];
  if (error) box.append(el('div', 'bk-error', error));
  if (block.hint) box.append(el('div', 'bk-hint', textObject(block.hint, ctx)));
  return box;
}

/** One block as a DOM node (unknown types say so instead of vanishing). */
export function renderBlock(block, ctx) {
  switch (block.type) {
    case 'header':
      return el('h3', 'bk-header', textObject(block.text, ctx));
    case 'section': {
      const box = el('div', 'bk-section');
      const body = el('div', 'bk-section-body');
      if (block.text) body.append(el('div', 'bk-text', textObject(block.text, ctx)));
      if (Array.isArray(block.fields)) body.append(el('div', 'bk-fields', ...block.fields.map((f) => el('div', 'bk-field', textObject(f, ctx)))));
      box.append(body);
      if (block.accessory?.type === 'button') box.append(button(block.accessory, block, ctx));
      return box;
    }
    case 'context':
      return el('div', 'bk-context', ...(block.elements ?? []).map((e) => (e.type === 'image' ? el('span', 'bk-img', `[${e.alt_text ?? 'image'}]`) : el('span', '', textObject(e, ctx)))));
    case 'divider':
      return el('hr', 'bk-divider');
    case 'actions':
      return el('div', 'bk-actions', ...(block.elements ?? []).filter((e) => e.type === 'button').map((e) => button(e, block, ctx)));
    case 'rich_text':
      return richText(block, ctx);
    case 'image':
      return el('div', 'bk-img', `[image: ${block.alt_text ?? ''}]`);
    case 'input':
      return input(block, ctx);
    default:
      return el('div', 'bk-unknown', `(a ${String(block.type)} block the sandbox does not draw)`);
  }
}

/** A message's blocks, or its text when it has none (as Slack falls back). */
export function renderBlocks(blocks, text, ctx) {
  if (!Array.isArray(blocks) || blocks.length === 0) return el('div', 'bk-text', renderMrkdwn(text ?? '', ctx));
  return el('div', 'bk-blocks', ...blocks.map((b) => renderBlock(b, ctx)));
}
