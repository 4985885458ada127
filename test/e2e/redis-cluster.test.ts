/**
 * Airlock on a real Redis Cluster the test starts (three masters, loopback):
 * submit → Slack approval → execution → `airlock audit verify`, with every
 * role in one process on a cluster client chosen by REDIS_CLUSTER_NODES. All
 * real except Slack (the local fake, signed clicks): dev OIDC issuer, BullMQ,
 * the snowflake-sdk against the emulator. Every key the run writes must sit in
 * the one hash slot of the install's tag — else a script or MULTI spanning
 * two slots would fail with CROSSSLOT on a cluster.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig, type Config } from '../../src/config/env.ts';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { createLogger } from '../../src/log.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { queryRecordKey } from '../../src/queries/keys.ts';
import { createSnowflakeWarehouse } from '../../src/warehouse/snowflake.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { airlock } from '../support/cli.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { uniquePrefix } from '../support/redis.ts';
import { slackClient, type SlackClient } from '../support/slack-client.ts';
import { until } from '../support/until.ts';

const SECRET = 'cluster-signing-secret-0123456789';
const CHANNEL = 'C0CLUSTER';
const AUDIENCE = 'https://airlock.test/api';
const label = uniquePrefix('cluster');

const POLICY = `version: 1
name: cluster-test
defaults: { database: ANALYTICS, schema: PUBLIC, action: review, approvals: { required: 1, from: [data-owners], expires_after: 1h } }
approvers:
  data-owners: { slack_users: [U0ALICE], slack_usergroups: [] }
rules:
  - { name: reads-reviewed, match: { category: read }, action: review }
`;

let cluster: RedisCluster;
let redis: Cluster;
let slack: FakeSlack;
let issuer: DevIssuer;
let emulator: Emulator;
let app: AirlockApp;
let config: Config;
let agent: ApiClient;
let fromSlack: SlackClient;
let exportDir: string;

beforeAll(async () => {
  exportDir = await mkdtemp(join(tmpdir(), 'airlock-cluster-export-'));
  cluster = await startRedisCluster();
  redis = cluster.client();
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  issuer = await startDevIssuer({ audience: AUDIENCE, port: 0 });
  emulator = await startEmulator({ account: 'EMU', user: 'AIRLOCK', password: 'emulator-password', port: 0, seed: 'demo' });
  config = loadConfig({
    REDIS_CLUSTER_NODES: cluster.nodes,
    AIRLOCK_REDIS_PREFIX: label,
    AIRLOCK_PORT: '0',
    OIDC_ISSUER: issuer.issuer,
    OIDC_AUDIENCE: AUDIENCE,
    SLACK_BOT_TOKEN: 'xoxb-cluster-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_APPROVAL_CHANNEL: CHANNEL,
    SLACK_API_URL: slack.url,
    AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0',
  });
  const parsed = parsePolicy(POLICY);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  app = await buildApp(config, {
    roles: ['api', 'worker', 'slack'],
    logger: createLogger({ level: (process.env.CLUSTER_TEST_LOG as 'debug') ?? 'silent' }),
    policy: parsed.policy,
    allowInsecureIssuer: true,
    warehouse: await createSnowflakeWarehouse({ account: 'EMU', user: 'AIRLOCK', password: 'emulator-password', accessUrl: emulator.url }),
  });
  const url = (await app.listen())!;
  agent = apiClient(url, await issuer.mintToken({ agent: 'cluster-bot', owner: 'owner@example.com' }));
  fromSlack = slackClient({ url, secret: SECRET, channel: CHANNEL });
}, 120_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await emulator?.close();
  await issuer?.close();
  await slack?.close();
  await cluster?.stop();
  await rm(exportDir, { recursive: true, force: true });
}, 60_000);

describe('Redis Cluster', () => {
  it('tags the prefix so one install hashes to one slot', () => {
    expect(config.AIRLOCK_REDIS_PREFIX).toBe(`{${label}}`);
  });

  it('submit → approve in Slack → execute → audit verify, all on the cluster', async () => {
    const submitted = await agent('/v1/queries', { body: { sql: 'SELECT CUSTOMER_ID FROM CUSTOMERS ORDER BY CUSTOMER_ID LIMIT 2' } });
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    expect(submitted.json.status).toBe('pending_approval');
    const id: string = submitted.json.id;

    // The vote binds to the card Airlock recorded (channel + ts), so wait for the record to name it.
    const card = await until(`the card of ${id}`, async () => {
      const raw = await redis.hget(queryRecordKey(config.AIRLOCK_REDIS_PREFIX, id), 'approval');
      return raw ? (JSON.parse(raw) as { card?: { channel: string; ts: string } }).card : undefined;
    }, 15_000);
    expect(await fromSlack.click('U0ALICE', id, { ts: card.ts })).toBe(200);

    const done = await agent(`/v1/queries/${id}?waitMs=15000`);
    expect(done.json.status, JSON.stringify(done.json)).toBe('succeeded');
    expect(done.json.result.rows).toHaveLength(2);
    const events = (await agent(`/v1/sessions/${id}`)).json.events?.map((e: { type: string }) => e.type) ?? [];
    expect(events).toEqual(expect.arrayContaining(['received', 'decided', 'vote', 'approved', 'execution_started', 'execution_finished']));

    // The export (checkpoint script, trim, pipelines) and the verify of exports plus Redis, both on the cluster.
    const cli = { REDIS_CLUSTER_NODES: cluster.nodes, AIRLOCK_REDIS_PREFIX: label, AIRLOCK_EXPORT_DIR: exportDir };
    const exported = await airlock(['audit', 'export'], { env: cli });
    expect(exported.code, exported.stderr + exported.stdout).toBe(0);
    expect((await readdir(exportDir, { recursive: true })).length).toBeGreaterThan(0);
    const verified = await airlock(['audit', 'verify'], { env: cli });
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
    expect(verified.stderr).toContain(`REDIS_CLUSTER_NODES cluster ${cluster.nodes}, key prefix {${label}}`);
  }, 120_000);

  it('keeps every key of the install in the hash slot of its tag', async () => {
    const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', `{${label}}`));
    const counts = await cluster.keyCounts(slot);
    expect(counts.total).toBeGreaterThan(10);
    expect(counts.inSlot).toBe(counts.total);
  });
});
