/**
 * The sandbox page: the approval channel as Slack shows it, live. The server
 * says "changed" over server-sent events (/sandbox/events) and the page reads
 * what the chosen user sees (/sandbox/state). Every click, modal submit and
 * `/airlock` command goes to /sandbox/act, which sends the signed Slack
 * request to Airlock. Plain DOM, no framework: the page is small, and text
 * nodes only (see ./mrkdwn.js) keep card content from ever becoming markup.
 */
import { renderBlock, renderBlocks, textObject } from './blockkit.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let state;
let me = params.get('as') ?? localStorage.getItem('airlock-sandbox-user') ?? '';
let openThread;
let shownModal;
let modalErrors = {};
let stickToBottom = true;

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const c of children) node.append(c);
  return node;
}

const ctx = {
  userName: (id) => state?.users.find((u) => u.id === id)?.realName,
  groupName: (id) => (id === 'S0SANDBOXAPPR' ? 'sandbox-approvers' : undefined),
  onButton: (element, _block, node) => act({ kind: 'button', ts: node.closest('[data-ts]')?.dataset.ts, actionId: element.action_id, value: element.value }),
};

function toast(text) {
  const t = el('div', 'toast', text);
  document.body.append(t);
  setTimeout(() => t.remove(), 6000);
}

async function act(body) {
  const res = await fetch('/sandbox/act', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: me, ...body }) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) toast(answer.error?.message ?? `The sandbox answered ${res.status}.`);
  else if (answer.status && answer.status !== 200) toast(`Airlock answered ${answer.status} to the signed request.`);
  return answer;
}

const timeOf = (seconds) => new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function messageNode(m, replies) {
  const node = el('article', 'message');
  node.dataset.ts = m.ts;
  const head = el('div', 'message-head', el('span', 'author', 'Airlock'), el('span', 'app-badge', 'APP'), el('span', 'time', timeOf(Number(m.ts))));
  if (m.edits) head.append(el('span', 'edited', '(edited)'));
  node.append(el('div', 'avatar', 'A'), el('div', 'message-main', head, renderBlocks(m.blocks, m.text, ctx)));
  if (replies?.length) {
    const link = el('button', 'replies', `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`);
    link.type = 'button';
    link.addEventListener('click', () => {
      openThread = m.ts;
      render();
    });
    node.querySelector('.message-main').append(link);
  }
  return node;
}

function ephemeralNode(e) {
  const node = el('article', 'message ephemeral');
  const head = el('div', 'message-head', el('span', 'author', 'Airlock'), el('span', 'app-badge', 'APP'), el('span', 'time', timeOf(e.at / 1000)));
  node.append(el('div', 'avatar', 'A'), el('div', 'message-main', head, renderBlocks(e.blocks, e.text, ctx), el('div', 'only-you', '👁 Only visible to you')));
  return node;
}

function renderUsers() {
  const box = $('users');
  box.replaceChildren(
    ...state.users.map((u) => {
      const option = el('button', `user${u.id === me ? ' selected' : ''}`, el('span', 'user-name', u.realName), el('span', 'user-role', u.role));
      option.type = 'button';
      option.dataset.userId = u.id;
      option.setAttribute('role', 'radio');
      option.setAttribute('aria-checked', String(u.id === me));
      option.addEventListener('click', () => {
        me = u.id;
        localStorage.setItem('airlock-sandbox-user', me);
        modalErrors = {};
        shownModal = undefined;
        refresh();
      });
      return option;
    }),
  );
}

function renderChannel() {
  const list = $('messages');
  stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const replies = new Map();
  for (const m of state.messages) if (m.thread_ts) replies.set(m.thread_ts, [...(replies.get(m.thread_ts) ?? []), m]);
  const items = [
    ...state.messages.filter((m) => !m.thread_ts).map((m) => ({ at: Number(m.ts) * 1000, node: () => messageNode(m, replies.get(m.ts)) })),
    ...state.ephemerals.filter((e) => !e.thread_ts).map((e) => ({ at: e.at, node: () => ephemeralNode(e) })),
  ].sort((a, b) => a.at - b.at);
  list.replaceChildren(...(items.length ? items.map((i) => i.node()) : [el('div', 'empty', 'No cards yet. Send a query that needs review (npm run demo sends a mix).')]));
  if (stickToBottom) list.scrollTop = list.scrollHeight;

  const pane = $('thread');
  const parent = openThread && state.messages.find((m) => m.ts === openThread);
  pane.hidden = !parent;
  if (parent) {
    const threadReplies = replies.get(parent.ts) ?? [];
    $('thread-body').replaceChildren(messageNode(parent), el('div', 'thread-count', `${threadReplies.length} ${threadReplies.length === 1 ? 'reply' : 'replies'}`), ...threadReplies.map((r) => messageNode(r)));
  }
}

function renderModal() {
  const modal = state.modal;
  const box = $('modal');
  const key = modal ? `${modal.id}:${JSON.stringify(modalErrors)}` : undefined;
  if (key === shownModal) return;
  shownModal = key;
  box.hidden = !modal;
  if (!modal) return box.replaceChildren();
  const view = modal.view;
  const form = el('form', 'modal');
  form.dataset.viewId = modal.id;
  const cancel = el('button', 'bk-button', textObject(view.close ?? { type: 'plain_text', text: 'Cancel' }, ctx));
  cancel.type = 'button';
  cancel.addEventListener('click', () => act({ kind: 'close', viewId: modal.id }).then(refresh));
  const submit = el('button', 'bk-button bk-primary', textObject(view.submit ?? { type: 'plain_text', text: 'Submit' }, ctx));
  submit.type = 'submit';
  form.append(el('header', 'modal-title', textObject(view.title, ctx)), el('div', 'modal-body', ...(view.blocks ?? []).map((b) => renderBlock(b, { ...ctx, errors: modalErrors }))), el('footer', 'modal-footer', cancel, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = {};
    for (const field of form.querySelectorAll('[name]')) {
      const [block, action] = field.name.split('/');
      values[block] = { ...values[block], [action]: field.value };
    }
    const answer = await act({ kind: 'submit', viewId: modal.id, values });
    modalErrors = answer.errors ?? {};
    await refresh();
  });
  box.replaceChildren(form);
  form.querySelector('textarea, input')?.focus();
}

/** `#ts=<ts>` (where a permalink lands): that message stays marked, and the page scrolls to it once it is drawn. */
let linked = { ts: undefined, scrolled: false };
const readLink = () => {
  const ts = new URLSearchParams(location.hash.slice(1)).get('ts');
  if (ts) linked = { ts, scrolled: false };
};
function showLinkedMessage() {
  const target = linked.ts && document.querySelector(`#messages article[data-ts="${CSS.escape(linked.ts)}"]`);
  if (!target) return;
  target.classList.add('linked');
  if (!linked.scrolled) target.scrollIntoView({ block: 'center' });
  linked.scrolled = true;
}

function render() {
  if (!state) return;
  if (!state.users.some((u) => u.id === me)) me = state.users[0].id;
  renderUsers();
  renderChannel();
  renderModal();
  showLinkedMessage();
  document.body.dataset.version = String(state.version);
}

async function refresh() {
  const res = await fetch(`/sandbox/state?user=${encodeURIComponent(me)}`, { cache: 'no-store' });
  if (res.ok) {
    state = await res.json();
    render();
  }
}

function listen() {
  const feed = new EventSource('/sandbox/events');
  feed.addEventListener('change', () => refresh());
  feed.addEventListener('open', () => ($('feed-status').textContent = '● live'));
  feed.addEventListener('error', () => ($('feed-status').textContent = '○ reconnecting…'));
}

$('thread-close').addEventListener('click', () => {
  openThread = undefined;
  render();
});
$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('composer-input');
  const text = input.value.trim();
  if (!text) return;
  if (!/^\/airlock\b/.test(text)) return toast('Only /airlock commands can be typed here.');
  input.value = '';
  await act({ kind: 'command', text });
});
addEventListener('hashchange', () => {
  readLink();
  render();
});
readLink();
listen();
refresh();
