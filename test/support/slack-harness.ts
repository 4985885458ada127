/**
 * Airlock's API and Slack roles on real Redis, behind a real dev OIDC issuer,
 * receiving correctly signed Slack requests, with the Web API pointed at the
 * local fake Slack. No worker: an approved query stops at `queued`, which is
 * all the attack suites in test/security need to see whether a vote counted.
 */
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig } from '../../src/config/env.ts';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { createLogger } from '../../src/log.ts';
import { Redis } from 'ioredis';
import { queryRecordKey } from '../../src/queries/store.ts';
import { apiClient } from './api-client.ts';
import { shippedPolicy, type SlackGroup } from './policies.ts';
import type { FakeSlack, FakeSlackMessage } from './fake-slack.ts';
import { REDIS_URL } from './redis.ts';
import { slackClient, type SlackClient } from './slack-client.ts';
import { until } from './until.ts';

const SIGNING_SECRET = 'security-signing-secret-0123456789';
export const CHANNEL = 'C0APPROVALS';
const AUDIENCE = 'https://airlock.test/api';

export interface HarnessOptions {
  slack: FakeSlack;
  prefix: string;
  /** Slack user and group ids of the policy's `data-owners` (the default policy's review rules name it). */
  approvers: SlackGroup;
  /** More environment (AIRLOCK_IDENTITY_ALIASES, AIRLOCK_OWNERLESS_TOKENS, AIRLOCK_SLACK_REVIEWERS, …). */
  env?: Record<string, string>;
  /** Read the policy from this file (AIRLOCK_POLICY, followed as it changes) instead of the shipped one with `approvers`. */
  policyFile?: string;
}

/** The running roles, the agent's side (tokens, the API) and Slack's side (signed clicks and commands, {@link SlackClient}). */
export interface Harness extends SlackClient {
  /** Base URL of the Airlock under test (operations routes such as /metrics). */
  url: string;
  /** A real token from the dev issuer (an agent with this owner claim, or none). */
  token(owner?: string): Promise<string>;
  /** POST /v1/queries; returns status and body. */
  submit(token: string, sql: string): Promise<{ status: number; json: any }>;
  /** GET /v1/queries/:id as the agent. */
  view(token: string, id: string): Promise<any>;
  /** Events of a session, read back as a reviewer (GET /v1/sessions/:id), or with `token` (the agent's own view). */
  sessionEvents(id: string, token?: string): Promise<Array<{ type: string; data: any }>>;
  /** The card Airlock posted for a query, once Airlock has recorded where it is. */
  cardOf(id: string): Promise<PostedCard>;
  close(): Promise<void>;
}

/**
 * Wait until the query record holds its card's address. Slack shows the card as
 * soon as chat.postMessage returns, a moment before Airlock records where it is;
 * a click in between is refused as out of place, so tests wait for both.
 */
export async function cardRecorded(prefix: string, id: string): Promise<{ channel: string; ts: string }> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await until(`the card of ${id} to be recorded`, async () => {
      const raw = await redis.hget(queryRecordKey(prefix, id), 'approval');
      const card = raw ? (JSON.parse(raw) as { card?: { channel: string; ts: string } }).card : undefined;
      return card ? { channel: card.channel, ts: card.ts } : undefined;
    });
  } finally {
    redis.disconnect();
  }
}

/** A card as Slack shows it: where it is and the message itself. */
export interface PostedCard {
  channel: string;
  ts: string;
  message: FakeSlackMessage;
}

/** The card posted for query `id` (not a thread reply), once the fake Slack shows it and Airlock has recorded it. */
export async function cardOf(slack: FakeSlack, prefix: string, id: string): Promise<PostedCard> {
  const shown = await until(`the card of ${id}`, () => {
    const found = [...slack.messages.entries()].find(([, m]) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id));
    return found ? { channel: found[1].channel, ts: found[0], message: found[1] } : undefined;
  });
  await cardRecorded(prefix, id);
  return shown;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const issuer: DevIssuer = await startDevIssuer({ audience: AUDIENCE, port: 0 });
  let app: AirlockApp | undefined;
  try {
    const config = loadConfig({
      REDIS_URL,
      AIRLOCK_REDIS_PREFIX: opts.prefix,
      AIRLOCK_PORT: '0',
      AIRLOCK_LOG_LEVEL: 'silent',
      AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0',
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      SLACK_BOT_TOKEN: 'xoxb-security-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: opts.slack.url,
      ...(opts.policyFile ? { AIRLOCK_POLICY: opts.policyFile } : {}),
      ...opts.env,
    });
    const policy = opts.policyFile ? {} : { policy: await shippedPolicy({ dataOwners: opts.approvers }) };
    app = await buildApp(config, { roles: ['api', 'slack'], logger: createLogger({ level: 'silent' }), ...policy, allowInsecureIssuer: true });
    const apiUrl = (await app.listen())!;
    const built = app;
    const api = apiClient(apiUrl);
    const reviewerToken = await issuer.mintToken({ agent: 'security-reviewer', scopes: ['airlock:review'] });
    const harness: Harness = {
      ...slackClient({ url: apiUrl, secret: SIGNING_SECRET, channel: CHANNEL }),
      url: apiUrl,
      token: (owner) => issuer.mintToken({ agent: 'etl-bot', ...(owner !== undefined ? { owner } : {}), groups: ['analysts'] }),
      submit: (token, sql) => api('/v1/queries', { token, body: { sql } }),
      view: async (token, id) => (await api(`/v1/queries/${id}`, { token })).json,
      async sessionEvents(id, as = reviewerToken) {
        const json = (await api(`/v1/sessions/${id}`, { token: as })).json as { events?: Array<{ type: string; data: unknown }> };
        return json.events ?? [];
      },
      cardOf: (id) => cardOf(opts.slack, opts.prefix, id),
      async close() {
        await built.close();
        await issuer.close();
      },
    };
    return harness;
  } catch (err) {
    await app?.close();
    await issuer.close();
    throw err;
  }
}
