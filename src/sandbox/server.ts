/**
 * The Slack sandbox on Airlock's own HTTP server (`airlock dev` without
 * SLACK_BOT_TOKEN): the Web API under `/sandbox/api/` (SLACK_API_URL points
 * here, so Airlock's Slack code runs unchanged), the page at `/sandbox` with
 * its live feed (`/sandbox/events`, server-sent events), and `/sandbox/act`,
 * where the page's clicks become signed requests to `/slack/events`.
 *
 * The sandbox is for one developer's machine: anyone who can reach the port
 * can act as any sandbox member. `/sandbox/act` takes JSON only, so a web page
 * on another origin cannot post to it without a CORS preflight, which fails.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError, httpStatusFor, isAirlockError, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';
import { perform, responseToken, type SandboxAction } from './interactions.ts';
import { persistWorkspace } from './persist.ts';
import { SANDBOX_APPROVER_GROUP, SANDBOX_CHANNEL, SANDBOX_GROUP_MEMBERS, SANDBOX_REVIEWER_ID, SANDBOX_USERS } from './roster.ts';
import { parseWebApiBody, str } from './web-api-body.ts';
import { createWorkspace, type SlackWorkspace } from './workspace.ts';

/** Options of {@link createSandbox}. */
export interface SandboxOptions {
  /** Where Airlock listens (`http://127.0.0.1:8080`): the sandbox lives under `/sandbox` there. */
  origin: string;
  logger: Logger;
  /** Keep the channel in this file across restarts (`.airlock/sandbox-channel.json` in dev). */
  stateFile?: string;
}

/** A sandbox ready to mount, and the Slack settings that point Airlock at it. */
export interface Sandbox {
  /** The page. */
  url: string;
  workspace: SlackWorkspace;
  /** SLACK_* settings for Airlock: a generated bot token and signing secret, the channel, SLACK_API_URL. */
  slackEnv: { SLACK_BOT_TOKEN: string; SLACK_SIGNING_SECRET: string; SLACK_APPROVAL_CHANNEL: string; SLACK_API_URL: string };
  /** The Slack user who reviews (for AIRLOCK_SLACK_REVIEWERS). */
  reviewerId: string;
  mount(server: FastifyInstance): void;
  /** Resolves once a saved channel is restored (at once without a state file). */
  ready: Promise<void>;
  /** Ends the live feeds (so the server can close) and saves the channel. */
  close(): Promise<void>;
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

/** The workspace with the sandbox's members and approver group. */
function seededWorkspace(origin: string): SlackWorkspace {
  const workspace = createWorkspace({ origin: () => `${origin}/sandbox`, teamId: 'T0SANDBOX' });
  for (const u of SANDBOX_USERS) workspace.setUser(u.id, { email: u.email, name: u.name, realName: u.realName });
  workspace.setUsergroupMembers(SANDBOX_APPROVER_GROUP.id, [...SANDBOX_GROUP_MEMBERS]);
  workspace.setChannelMembers(SANDBOX_CHANNEL.id, SANDBOX_USERS.map((u) => u.id));
  return workspace;
}

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

/** Create the sandbox for an Airlock that will listen at `origin`. */
export function createSandbox(options: SandboxOptions): Sandbox {
  const { origin, logger } = options;
  const workspace = seededWorkspace(origin);
  const persisted = options.stateFile ? persistWorkspace(workspace, options.stateFile, logger) : undefined;
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(32).toString('hex');
  const closedViews = new Set<string>();
  const hooks = new Map<string, string>();
  const feeds = new Set<FastifyReply>();
  let version = 0;
  workspace.onChange(() => {
    version += 1;
    for (const feed of feeds) feed.raw.write(`event: change\ndata: ${version}\n\n`);
  });
  const interactions = {
    workspace,
    eventsUrl: `${origin}/slack/events`,
    signingSecret,
    closedViews,
    responseUrl: (user: string) => {
      const token = responseToken();
      hooks.set(token, user);
      return `${origin}/sandbox/hooks/${token}`;
    },
  };

  /** What the page shows to `user`: the channel, their ephemerals and their open modal. */
  const stateFor = (user: string) => ({
    version,
    channel: SANDBOX_CHANNEL,
    users: SANDBOX_USERS,
    messages: [...workspace.messages].map(([ts, m]) => ({ ts, text: m.text, blocks: m.blocks, thread_ts: m.thread_ts, edits: m.edits })),
    ephemerals: workspace.ephemerals.filter((e) => e.user === user).map((e) => ({ text: e.text, blocks: e.blocks, at: e.at, thread_ts: e.thread_ts })),
    modal: [...workspace.views].reverse().find((v) => v.user === user && !closedViews.has(v.id)) ?? null,
  });

  const webApi = async (request: FastifyRequest<{ Params: { method: string } }>, reply: FastifyReply) => {
    let body: Record<string, unknown>;
    try {
      body = parseWebApiBody(typeof request.body === 'string' ? request.body : '', String(request.headers['content-type'] ?? ''));
    } catch {
      return reply.send({ ok: false, error: 'invalid_json' });
    }
    const auth = String(request.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : str(body.token);
    if (!token) return reply.send({ ok: false, error: 'not_authed' });
    if (token !== botToken) return reply.send({ ok: false, error: 'invalid_auth' });
    const answer = workspace.call(request.params.method, body);
    return reply.status(answer.status ?? 200).headers(answer.headers ?? {}).send(answer.body);
  };

  const act = async (body: unknown, reply: FastifyReply) => {
    try {
      return reply.send(await perform(interactions, actionOf(body)));
    } catch (err) {
      const e = isAirlockError(err) ? err : new AirlockError('SLACK_UNAVAILABLE', 'The sandbox could not reach Airlock’s /slack/events; is it still running?');
      if (!isAirlockError(err)) logger.warn({ component: 'sandbox', err: err instanceof Error ? err.message : String(err) }, 'sandbox action failed');
      return reply.status(httpStatusFor(e.code)).send(toErrorBody(e));
    }
  };

  let closed = false;
  const feed = (request: FastifyRequest, reply: FastifyReply) => {
    // After close a reconnecting page gets no new feed, or the server would wait for it forever.
    if (closed) return reply.status(503).send(toErrorBody(new AirlockError('SLACK_UNAVAILABLE', 'The sandbox is shutting down.')));
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    reply.raw.write(`retry: 1000\nevent: change\ndata: ${version}\n\n`);
    feeds.add(reply);
    const beat = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(beat);
      feeds.delete(reply);
    });
  };

  const mount = (server: FastifyInstance) => {
    void server.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
      scope.post<{ Params: { method: string } }>('/sandbox/api/:method', webApi);
      scope.post<{ Params: { id: string } }>('/sandbox/upload/:id', async (request, reply) => {
        const ok = workspace.upload(request.params.id, typeof request.body === 'string' ? request.body : '');
        return reply.status(ok ? 200 : 404).type('text/plain').send(ok ? 'OK' : 'not_found');
      });
      scope.post<{ Params: { token: string } }>('/sandbox/hooks/:token', async (request, reply) => {
        const user = hooks.get(request.params.token);
        if (!user) return reply.status(404).send({ ok: false, error: 'not_found' });
        const body = parseWebApiBody(typeof request.body === 'string' ? request.body : '', 'application/json');
        workspace.call('chat.postEphemeral', { channel: SANDBOX_CHANNEL.id, user, text: str(body.text) ?? '', blocks: body.blocks });
        return reply.send({ ok: true });
      });
      scope.post('/sandbox/act', async (request, reply) => {
        if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
          return reply.status(415).send(toErrorBody(new AirlockError('BAD_REQUEST', 'Send the action as application/json.')));
        }
        let body: unknown;
        try {
          body = JSON.parse(typeof request.body === 'string' ? request.body : '');
        } catch {
          return reply.status(400).send(toErrorBody(new AirlockError('BAD_REQUEST', 'The action is not valid JSON.')));
        }
        return act(body, reply);
      });
    });
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
    server.get<{ Querystring: { user?: string } }>('/sandbox/state', async (request, reply) => reply.header('cache-control', 'no-store').send(stateFor(String(request.query.user ?? ''))));
    server.get('/sandbox/events', feed);
    server.get('/sandbox/archives/*', async (_request, reply) => reply.redirect('/sandbox'));
  };

  return {
    url: `${origin}/sandbox`,
    workspace,
    slackEnv: { SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_APPROVAL_CHANNEL: SANDBOX_CHANNEL.id, SLACK_API_URL: `${origin}/sandbox/api/` },
    reviewerId: SANDBOX_REVIEWER_ID,
    mount,
    ready: persisted ? persisted.then(() => undefined) : Promise.resolve(),
    async close() {
      closed = true;
      for (const f of feeds) f.raw.end();
      feeds.clear();
      await (await persisted)?.flush();
    },
  };
}
