/**
 * The sandbox's routes on Airlock's HTTP server: the Web API
 * (`/sandbox/api/<method>`, only with the sandbox's bot token), uploads and
 * response URLs, `/sandbox/act` (JSON only) where the page's clicks become
 * signed Slack requests, the page and its files, what a user sees
 * (`/sandbox/state`) and the live feed (`/sandbox/events`).
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError, httpStatusFor, isAirlockError, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type InteractionOptions, perform, type SandboxAction } from './interactions.ts';
import type { LiveFeed } from './live-feed.ts';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from './roster.ts';
import { parseWebApiBody, str } from './web-api-body.ts';

/** What the routes work on. */
export interface RouteContext {
  interactions: InteractionOptions;
  botToken: string;
  /** Response URL tokens and the user each belongs to. */
  hooks: Map<string, string>;
  feed: LiveFeed;
  logger: Logger;
}

const ASSETS: Record<string, string> = {
  'sandbox.js': 'text/javascript; charset=utf-8',
  'blockkit.js': 'text/javascript; charset=utf-8',
  'mrkdwn.js': 'text/javascript; charset=utf-8',
  'sandbox.css': 'text/css; charset=utf-8',
};
const PAGE_DIR = new URL('./page/', import.meta.url);
/** Scripts and styles from this origin only: whatever a card holds cannot run as script. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A file of the page, or undefined when this installation has none (a build without the page). */
const pageFile = (name: string): Promise<Buffer | undefined> => readFile(new URL(name, PAGE_DIR)).catch(() => undefined);
const pageMissing = () => new AirlockError('NOT_FOUND', 'This installation has no sandbox page (src/sandbox/page/); run airlock dev from a checkout with npm start.');

/** The action in a /sandbox/act body; BAD_REQUEST when it is not one. */
function actionOf(body: unknown): SandboxAction {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const s = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
  const user = s('user');
  if (b.kind === 'button' && s('ts') && s('actionId') && s('value')) return { kind: 'button', user, ts: s('ts'), actionId: s('actionId'), value: s('value') };
  if (b.kind === 'submit' && s('viewId') && typeof b.values === 'object' && b.values !== null) {
    const values: Record<string, Record<string, string>> = {};
    for (const [block, actions] of Object.entries(b.values as Record<string, unknown>)) {
      if (typeof actions !== 'object' || actions === null) continue;
      values[block] = Object.fromEntries(Object.entries(actions).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    }
    return { kind: 'submit', user, viewId: s('viewId'), values };
  }
  if (b.kind === 'close' && s('viewId')) return { kind: 'close', user, viewId: s('viewId') };
  if (b.kind === 'command' && s('text')) return { kind: 'command', user, text: s('text') };
  throw new AirlockError('BAD_REQUEST', 'Send {kind: button|submit|close|command, user, …} as JSON.');
}

/** What the page shows to `user`: the channel, their ephemerals and their open modal. */
function stateFor(ctx: RouteContext, user: string) {
  const { workspace, closedViews } = ctx.interactions;
  return {
    version: ctx.feed.version,
    channel: SANDBOX_CHANNEL,
    users: SANDBOX_USERS,
    messages: [...workspace.messages].map(([ts, m]) => ({ ts, text: m.text, blocks: m.blocks, thread_ts: m.thread_ts, edits: m.edits })),
    ephemerals: workspace.ephemerals.filter((e) => e.user === user).map((e) => ({ text: e.text, blocks: e.blocks, at: e.at, thread_ts: e.thread_ts })),
    modal: [...workspace.views].reverse().find((v) => v.user === user && !closedViews.has(v.id)) ?? null,
  };
}

/** A Web API call: Slack's answers, `invalid_auth` for any token but the sandbox's. */
async function webApi(ctx: RouteContext, request: FastifyRequest<{ Params: { method: string } }>, reply: FastifyReply) {
  let body: Record<string, unknown>;
  try {
    body = parseWebApiBody(typeof request.body === 'string' ? request.body : '', String(request.headers['content-type'] ?? ''));
  } catch {
    return reply.send({ ok: false, error: 'invalid_json' });
  }
  const auth = String(request.headers.authorization ?? '');
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : str(body.token);
  if (!token) return reply.send({ ok: false, error: 'not_authed' });
  if (token !== ctx.botToken) return reply.send({ ok: false, error: 'invalid_auth' });
  const answer = ctx.interactions.workspace.call(request.params.method, body);
  return reply.status(answer.status ?? 200).headers(answer.headers ?? {}).send(answer.body);
}

/** `/sandbox/act`: JSON only (a cross-origin page cannot send it without a preflight), then the signed request. */
async function act(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply) {
  if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
    return reply.status(415).send(toErrorBody(new AirlockError('BAD_REQUEST', 'Send the action as application/json.')));
  }
  try {
    let body: unknown;
    try {
      body = JSON.parse(typeof request.body === 'string' ? request.body : '');
    } catch {
      throw new AirlockError('BAD_REQUEST', 'The action is not valid JSON.');
    }
    return reply.send(await perform(ctx.interactions, actionOf(body)));
  } catch (err) {
    const e = isAirlockError(err) ? err : new AirlockError('SLACK_UNAVAILABLE', 'The sandbox could not reach Airlock’s /slack/events; is it still running?');
    if (!isAirlockError(err)) ctx.logger.warn({ component: 'sandbox', err: err instanceof Error ? err.message : String(err) }, 'sandbox action failed');
    return reply.status(httpStatusFor(e.code)).send(toErrorBody(e));
  }
}

/** Routes that read raw bodies (Slack's forms, JSON as text), in their own scope. */
function bodyRoutes(scope: FastifyInstance, ctx: RouteContext): void {
  const { workspace } = ctx.interactions;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  scope.post<{ Params: { method: string } }>('/sandbox/api/:method', (request, reply) => webApi(ctx, request, reply));
  scope.post<{ Params: { id: string } }>('/sandbox/upload/:id', async (request, reply) => {
    const ok = workspace.upload(request.params.id, typeof request.body === 'string' ? request.body : '');
    return reply.status(ok ? 200 : 404).type('text/plain').send(ok ? 'OK' : 'not_found');
  });
  scope.post<{ Params: { token: string } }>('/sandbox/hooks/:token', async (request, reply) => {
    const user = ctx.hooks.get(request.params.token);
    if (!user) return reply.status(404).send({ ok: false, error: 'not_found' });
    let body: Record<string, unknown>;
    try {
      body = parseWebApiBody(typeof request.body === 'string' ? request.body : '', 'application/json');
    } catch {
      return reply.status(400).send({ ok: false, error: 'invalid_payload' });
    }
    workspace.call('chat.postEphemeral', { channel: SANDBOX_CHANNEL.id, user, text: str(body.text) ?? '', blocks: body.blocks });
    return reply.send({ ok: true });
  });
  scope.post('/sandbox/act', (request, reply) => act(ctx, request, reply));
}

/** Register every sandbox route on `server`. */
export function mountSandboxRoutes(server: FastifyInstance, ctx: RouteContext): void {
  void server.register(async (scope) => bodyRoutes(scope, ctx));
  server.get('/sandbox', async (_request, reply) => {
    const html = await pageFile('index.html');
    if (!html) return reply.status(404).send(toErrorBody(pageMissing()));
    return reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(html);
  });
  server.get<{ Params: { file: string } }>('/sandbox/assets/:file', async (request, reply) => {
    const type = ASSETS[request.params.file];
    if (!type) return reply.status(404).send(toErrorBody(new AirlockError('NOT_FOUND', 'No such sandbox file.')));
    const content = await pageFile(request.params.file);
    if (!content) return reply.status(404).send(toErrorBody(pageMissing()));
    return reply.type(type).header('cache-control', 'no-store').send(content);
  });
  server.get<{ Querystring: { user?: string } }>('/sandbox/state', async (request, reply) => reply.header('cache-control', 'no-store').send(stateFor(ctx, String(request.query.user ?? ''))));
  server.get('/sandbox/events', (request, reply) => ctx.feed.serve(request, reply));
  // A permalink (`…/archives/<channel>/p<ts without the dot>`) opens the page at that message.
  server.get<{ Params: { '*': string } }>('/sandbox/archives/*', async (request, reply) => {
    const digits = /\/p(\d{7,})$/.exec(request.params['*'])?.[1];
    return reply.redirect(digits ? `/sandbox#ts=${digits.slice(0, -6)}.${digits.slice(-6)}` : '/sandbox');
  });
}
