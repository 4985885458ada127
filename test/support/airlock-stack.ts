/**
 * A whole Airlock as separate processes for the reliability suite: its own
 * Redis with an AOF, the emulator, a TLS OIDC issuer, one `airlock serve
 * --roles api` and any number of `airlock serve --roles worker`, all on the
 * environment an operator would give them. The policy allows reads and writes
 * to ANALYTICS.PUBLIC.REL_SCRATCH at once and reviews everything else;
 * REL_SLOW holds enough rows that {@link SLOW_READ} runs for seconds even on
 * a quiet machine (a kill must land while it runs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Emulator } from '../../src/emulator/server.ts';
import { apiClient, type ApiClient } from './api-client.ts';
import { emulatorWithKey, spawnServe, startAofRedis, startTlsIssuer, type AofRedis, type ServeProcess, type TlsIssuer } from './processes.ts';

/** Rows in REL_SLOW: a self-join over them takes seconds in DuckDB. */
const SLOW_ROWS = 45_000;

/** A read that runs for a few seconds (a self-join that matches nothing). */
export const SLOW_READ = 'select count(*) as c from analytics.public.rel_slow a, analytics.public.rel_slow b where a.n + b.n < 0';

/** A write that runs for as long (it inserts the count of the same join). */
export const SLOW_WRITE = 'insert into analytics.public.rel_scratch select count(*) from analytics.public.rel_slow a, analytics.public.rel_slow b where a.n + b.n < 0';

/** A quick allowed read; `tag` makes each statement distinct. */
export function quickRead(tag: string): string {
  return `select n, '${tag}' as tag from analytics.public.rel_slow order by n limit 1`;
}

/** A statement the policy sends for review (a write outside REL_SCRATCH). */
export function reviewed(tag: string): string {
  return `update analytics.public.rel_review set note = '${tag}' where id = 1`;
}

const POLICY = `version: 1
name: reliability
defaults:
  database: ANALYTICS
  schema: PUBLIC
  action: review
  max_rows: 10000
  approvals: { required: 1, from: [data-owners], expires_after: 1h }
approvers:
  data-owners: { slack_users: [U0OWNER1], slack_usergroups: [] }
rules:
  - name: reads
    match: { category: read }
    action: allow
  - name: scratch-writes
    match: { category: write, tables: [ANALYTICS.PUBLIC.REL_SCRATCH] }
    action: allow
`;

export interface StackOptions {
  workers?: number;
}

export interface AirlockStack {
  dir: string;
  prefix: string;
  redis: AofRedis;
  emulator: Emulator;
  issuer: TlsIssuer;
  /** The environment every process gets. */
  env: Record<string, string>;
  api: ServeProcess;
  workers: ServeProcess[];
  /** The agent's API client (token for `agent-rel`). */
  agent: ApiClient;
  /** A command connection to the stack's Redis (closed by close()). */
  admin: Redis;
  startWorker(): Promise<ServeProcess>;
  /** Start the API process again (after a kill); the agent client follows it. */
  restartApi(): Promise<void>;
  close(): Promise<void>;
}

export async function startAirlockStack(options: StackOptions = {}): Promise<AirlockStack> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-rel-'));
  const prefix = 'rel';
  const audience = 'https://airlock.reliability/api';
  const [redis, { emulator, privateKeyPath }, issuer] = await Promise.all([
    startAofRedis(join(dir, 'redis')),
    // No demo data: three tables of its own start in a second instead of seeding for many.
    emulatorWithKey(dir, async (db, { createDatabase }) => {
      await createDatabase('ANALYTICS');
      await db.run(`CREATE TABLE "ANALYTICS"."PUBLIC"."REL_SLOW" AS SELECT range::INTEGER AS N FROM range(${SLOW_ROWS})`);
      await db.run('CREATE TABLE "ANALYTICS"."PUBLIC"."REL_SCRATCH" (C BIGINT)');
      await db.run(`CREATE TABLE "ANALYTICS"."PUBLIC"."REL_REVIEW" AS SELECT 1 AS ID, 'x' AS NOTE`);
    }),
    startTlsIssuer(join(dir, 'issuer'), audience),
  ]);
  const policyPath = join(dir, 'policy.yaml');
  await writeFile(policyPath, POLICY);
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    AIRLOCK_REDIS_PREFIX: prefix,
    AIRLOCK_POLICY: policyPath,
    AIRLOCK_LOG_LEVEL: 'info',
    AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0',
    AIRLOCK_MASKING_KEY: randomBytes(32).toString('hex'),
    AIRLOCK_STATEMENT_TIMEOUT_MS: '120000',
    OIDC_ISSUER: issuer.issuer,
    OIDC_AUDIENCE: audience,
    NODE_EXTRA_CA_CERTS: issuer.caPath,
    SNOWFLAKE_ACCOUNT: 'AIRLOCK_REL',
    SNOWFLAKE_USER: 'AIRLOCK_SVC',
    SNOWFLAKE_PRIVATE_KEY_PATH: privateKeyPath,
    SNOWFLAKE_ACCESS_URL: emulator.url,
    SNOWFLAKE_DATABASE: 'ANALYTICS',
    SNOWFLAKE_SCHEMA: 'PUBLIC',
    SNOWFLAKE_WAREHOUSE: 'REL_WH',
  };
  const token = await issuer.mintToken({ agent: 'agent-rel', owner: 'owner@example.com', groups: ['analysts'], ttlSeconds: 3600 });
  let count = 0;
  const startWorker = () => spawnServe('worker', env, join(dir, `worker-${++count}.log`));
  const [api, ...workers] = await Promise.all([spawnServe('api', env, join(dir, 'api.log')), ...Array.from({ length: options.workers ?? 1 }, startWorker)]);
  const admin = redis.client();
  admin.on('error', () => undefined);
  const stack: AirlockStack = {
    dir,
    prefix,
    redis,
    emulator,
    issuer,
    env,
    api: api!,
    workers,
    agent: apiClient(api!.url, token),
    admin,
    startWorker: async () => {
      const w = await startWorker();
      stack.workers.push(w);
      return w;
    },
    restartApi: async () => {
      stack.api = await spawnServe('api', env, join(dir, 'api.log'));
      stack.agent = apiClient(stack.api.url, token);
    },
    close: async () => {
      await Promise.all([stack.api.kill9(), ...stack.workers.map((w) => w.kill9())]);
      admin.disconnect();
      await redis.stop();
      await emulator.close();
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
