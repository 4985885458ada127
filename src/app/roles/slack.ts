/**
 * Slack's two halves: the card outbox (posts and updates approval cards; runs
 * with the worker or the slack role) and the receiver (clicks, the deny modal
 * and /airlock; the slack role, or the api role when it holds the signing
 * secret or an app token).
 */
import type { FastifyInstance } from 'fastify';
import { logQueueErrors } from '../../queue/error-log.ts';
import { startSlackWorker } from '../../queue/slack-queue.ts';
import { createSlackApp } from '../../slack/app.ts';
import { CardSync } from '../../slack/cards.ts';
import { FastifySlackReceiver } from '../../slack/receiver.ts';
import type { Core } from '../core.ts';
import type { Running } from './role.ts';

/** Start the card outbox when Slack is on and a channel is set; otherwise nothing. */
export function startCardOutbox(core: Core): Running | undefined {
  const { slack, slackClient, logger } = core;
  if (!slack?.channel || !slackClient) return undefined;
  const sync = new CardSync({
    client: slackClient,
    channel: slack.channel,
    queries: core.store,
    approvals: core.approvalStore,
    redis: core.command,
    prefix: core.config.AIRLOCK_REDIS_PREFIX,
    logger: logger.child({ component: 'slack' }),
    audit: core.audit,
    now: core.clock,
  });
  const slackWorker = startSlackWorker({
    connection: core.connect('slack-worker', true),
    prefix: core.config.AIRLOCK_REDIS_PREFIX,
    logger: logger.child({ component: 'slack' }),
    sync: (id) => sync.sync(id),
  });
  logQueueErrors(slackWorker, logger, { component: 'slack', queue: 'slack' });
  return { stop: () => slackWorker.close() };
}

/** The started receiver: routes to mount on the process's HTTP server (HTTP mode), and how it stops. */
export interface SlackReceiver extends Running {
  mount?: (server: FastifyInstance) => void;
}

/**
 * Receive Slack's requests: over HTTP on the process's server with the
 * signing secret, or over Socket Mode with the app token (which connects out;
 * a failure is logged and retried by the client, never fatal).
 */
export function startSlackReceiver(core: Core): SlackReceiver | undefined {
  const { slack, logger, slackDirectory } = core;
  if (!slack) return undefined;
  const receiver =
    slack.signingSecret && !slack.appToken
      ? new FastifySlackReceiver({ signingSecret: slack.signingSecret, logger: logger.child({ component: 'slack' }), now: () => core.clock().getTime() })
      : undefined;
  const boltApp = createSlackApp({
    botToken: slack.botToken,
    ...(slack.appToken ? { appToken: slack.appToken } : {}),
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    ...(receiver ? { receiver } : {}),
    approvals: core.approvals,
    queries: core.store,
    cards: core.slackQueue,
    ...(slackDirectory ? { emailOf: (id: string) => slackDirectory.emailOf(id) } : {}),
    access: core.access,
    logger: logger.child({ component: 'slack' }),
    sessions: core.auditSearch,
  });
  if (!slack.appToken) return { ...(receiver ? { mount: (server: FastifyInstance) => receiver.register(server) } : {}), stop: async () => undefined };
  boltApp.start().catch((err: Error) => logger.error({ component: 'slack', err: err.message }, 'socket mode failed to start'));
  return { stop: () => boltApp.stop() };
}
