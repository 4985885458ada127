/**
 * Slack mrkdwn for the sandbox page, rendered safely: the text is parsed into
 * a small tree and built with createElement and text nodes only — never
 * innerHTML — so SQL, prompts and deny reasons (escaped by Airlock as
 * `&lt;` `&gt;` `&amp;`, or not) can only ever show as text.
 *
 * Covers what Slack renders in section, field and context text: ```code
 * blocks```, `inline code`, *bold*, _italic_, ~strike~, `>` quotes, line
 * breaks, and the angle-bracket tokens: <@U…> mentions, <!subteam^S…>,
 * <!here>/<!channel>, <#C…>, <!date^…|fallback> and <url|label> links
 * (http, https and mailto only; anything else shows as text).
 */

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&' };
/** Turns Slack's three entities back into characters (for text nodes, where they are inert). */
export const decode = (s) => s.replace(/&(lt|gt|amp);/g, (m) => ENTITIES[m]);

const EMOJI = {
  warning: '⚠️',
  white_check_mark: '✅',
  x: '❌',
  no_entry: '⛔',
  hourglass: '⏳',
  lock: '🔒',
  mag: '🔍',
  heavy_check_mark: '✔️',
  eyes: '👀',
};
/** `:warning:` → ⚠️ for the shortcodes Airlock uses; others stay as typed. */
export const emojify = (s) => s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] ?? m);

const MARKS = { '*': 'b', _: 'i', '~': 's' };
const BOUNDARY = /[\s.,;:!?()[\]{}"'`/-]/;

/** An angle token `<…>` (without the brackets) as a node. */
function angle(token, ctx) {
  const [target, label] = splitOnce(token, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return { t: 'mention', v: `@${label ?? ctx.userName(id) ?? id}` };
  }
  if (target.startsWith('!subteam^')) return { t: 'mention', v: label ?? `@${ctx.groupName(target.slice(9)) ?? target.slice(9)}` };
  if (target === '!here' || target === '!channel' || target === '!everyone') return { t: 'mention', v: `@${target.slice(1)}` };
  if (target.startsWith('!date^')) {
    const seconds = Number(target.split('^')[1]);
    return { t: 'text', v: Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : decode(label ?? '') };
  }
  if (target.startsWith('#')) return { t: 'mention', v: `#${label ?? target.slice(1)}` };
  const href = decode(target);
  if (/^(https?:|mailto:)/i.test(href)) return { t: 'link', href, c: [{ t: 'text', v: decode(label ?? target) }] };
  return { t: 'text', v: decode(label ?? target) };
}

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/** Inline text of one line: code spans, angle tokens, then bold/italic/strike (which may nest). */
export function inline(text, ctx) {
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push({ t: 'text', v: emojify(decode(plain)) });
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: 'code', v: decode(text.slice(i + 1, end)) });
        i = end;
        continue;
      }
    }
    if (ch === '<') {
      const end = text.indexOf('>', i + 1);
      if (end > i + 1) {
        flush();
        out.push(angle(text.slice(i + 1, end), ctx));
        i = end;
        continue;
      }
    }
    const mark = MARKS[ch];
    if (mark && (i === 0 || BOUNDARY.test(text[i - 1])) && text[i + 1] && !/\s/.test(text[i + 1])) {
      let end = text.indexOf(ch, i + 1);
      while (end > 0 && (/\s/.test(text[end - 1]) || (end + 1 < text.length && !BOUNDARY.test(text[end + 1])))) end = text.indexOf(ch, end + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: mark, c: inline(text.slice(i + 1, end), ctx) });
        i = end;
        continue;
      }
    }
    plain += ch;
  }
  flush();
  return out;
}

/**
 * A mrkdwn string as a node tree: `pre` for fenced code, `quote` for `>`
 * lines, `br` between lines, inline nodes otherwise. Pure: no DOM.
 */
export function parseMrkdwn(text, ctx) {
  const nodes = [];
  const parts = String(text).split('```');
  parts.forEach((part, n) => {
    if (n % 2 === 1 && n < parts.length - 1) {
      nodes.push({ t: 'pre', v: decode(part.replace(/^\n/, '').replace(/\n$/, '')) });
      return;
    }
    const body = n % 2 === 1 ? `\`\`\`${part}` : part;
    const lines = body.split('\n');
    lines.forEach((line, k) => {
      if (k > 0) nodes.push({ t: 'br' });
      const quoted = line.match(/^(?:&gt;|>)\s?(.*)$/);
      if (quoted) nodes.push({ t: 'quote', c: inline(quoted[1], ctx) });
      else nodes.push(...inline(line, ctx));
    });
  });
  return nodes;
}

const TAGS = { b: 'strong', i: 'em', s: 'del', code: 'code', pre: 'pre', quote: 'blockquote', mention: 'span' };

/** DOM nodes for a tree from {@link parseMrkdwn}; text only through text nodes. */
export function toDom(nodes, doc = document) {
  const frag = doc.createDocumentFragment();
  for (const node of nodes) {
    if (node.t === 'text') frag.append(doc.createTextNode(node.v));
    else if (node.t === 'br') frag.append(doc.createElement('br'));
    else if (node.t === 'link') {
      const a = doc.createElement('a');
      const url = new URL(node.href, location.href);
      // A card's permalink names the origin Airlock runs on (in a container, not the one the browser sees): keep its path.
      a.href = url.pathname.startsWith('/sandbox/archives/') ? url.pathname : node.href;
      a.rel = 'noopener noreferrer';
      // Links into this sandbox stay in the tab; others open a new one.
      if (!url.pathname.startsWith('/sandbox/archives/') && url.origin !== location.origin) a.target = '_blank';
      a.append(toDom(node.c, doc));
      frag.append(a);
    } else {
      const el = doc.createElement(TAGS[node.t] ?? 'span');
      if (node.t === 'mention') el.className = 'mention';
      if ('v' in node) el.textContent = node.v;
      else el.append(toDom(node.c, doc));
      frag.append(el);
    }
  }
  return frag;
}

/** mrkdwn text → a DOM fragment. */
export const renderMrkdwn = (text, ctx) => toDom(parseMrkdwn(text, ctx));
