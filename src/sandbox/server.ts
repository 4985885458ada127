/**
 * The Slack sandbox on Airlock's own HTTP server (`airlock dev` without
 * SLACK_BOT_TOKEN): the Web API under `/sandbox/api/` (SLACK_API_URL points
 * here, so Airlock's Slack code runs unchanged), the page at `/sandbox` with
 * its live feed, and `/sandbox/act`, where the page's clicks become signed
 * requests to `/slack/events` (routes in ./routes.ts).
 *
 * The sandbox is for one developer's machine: anyone who can reach the port
 * can act as any sandbox member. `/sandbox/act` takes JSON only, so a web page
 * on another origin cannot post to it without a CORS preflight, which fails.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import { responseToken } from './interactions.ts';
import { LiveFeed } from './live-feed.ts';
import { persistWorkspace } from './persist.ts';
import { SANDBOX_APPROVER_GROUP, SANDBOX_CHANNEL, SANDBOX_GROUP_MEMBERS, SANDBOX_REVIEWER_ID, SANDBOX_USERS } from './roster.ts';
import { mountSandboxRoutes } from './routes.ts';
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

/** The workspace with the sandbox's members and approver group. */
function seededWorkspace(origin: string): SlackWorkspace {
  const workspace = createWorkspace({ origin: () => `${origin}/sandbox`, teamId: 'T0SANDBOX' });
  for (const u of SANDBOX_USERS) workspace.setUser(u.id, { email: u.email, name: u.name, realName: u.realName });
  workspace.setUsergroupMembers(SANDBOX_APPROVER_GROUP.id, [...SANDBOX_GROUP_MEMBERS]);
  workspace.setChannelMembers(SANDBOX_CHANNEL.id, SANDBOX_USERS.map((u) => u.id));
  return workspace;
}

/** Create the sandbox for an Airlock that will listen at `origin`. */
export function createSandbox(options: SandboxOptions): Sandbox {
  const { origin, logger } = options;
  const workspace = seededWorkspace(origin);
  const persisted = options.stateFile ? persistWorkspace(workspace, options.stateFile, logger) : undefined;
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(32).toString('hex');
  const hooks = new Map<string, string>();
  const feed = new LiveFeed();
  workspace.onChange(() => feed.changed());
  const interactions = {
    workspace,
    eventsUrl: `${origin}/slack/events`,
    signingSecret,
    closedViews: new Set<string>(),
    responseUrl: (user: string) => {
      const token = responseToken();
      hooks.set(token, user);
      // Slack's response URLs expire too: keep the newest few hundred.
      for (const old of hooks.keys()) {
        if (hooks.size <= 500) break;
        hooks.delete(old);
      }
      return `${origin}/sandbox/hooks/${token}`;
    },
  };
  return {
    url: `${origin}/sandbox`,
    workspace,
    slackEnv: { SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_APPROVAL_CHANNEL: SANDBOX_CHANNEL.id, SLACK_API_URL: `${origin}/sandbox/api/` },
    reviewerId: SANDBOX_REVIEWER_ID,
    mount: (server) => mountSandboxRoutes(server, { interactions, botToken, hooks, feed, logger }),
    ready: persisted ? persisted.then(() => undefined) : Promise.resolve(),
    async close() {
      feed.close();
      await (await persisted)?.flush();
    },
  };
}
