/**
 * The Snowflake-wire door's overhead: the warm latency of a 3-row SELECT with
 * the same unmodified snowflake-sdk, in one run,
 *   1. straight to the emulator (key-pair login), and
 *   2. through Airlock's door (OAuth login with a dev-issuer token): wire
 *      session check in Redis, the query service (policy, record, session
 *      log), BullMQ, the worker running the same statement through its own
 *      snowflake-sdk on the emulator, masking, the result stored in Redis, the
 *      long-poll wake-up, and the rowset encoding.
 * Rounds alternate between the two so machine noise hits both alike; compare
 * the difference and the ratio, not absolute numbers.
 *
 * Needs Redis on REDIS_URL (default 127.0.0.1:6379); uses a unique key prefix
 * and deletes it afterwards. `npm run bench` runs it; alone:
 * `SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true npx tsx bench/wire.ts`.
 * BENCH_WIRE_ROUNDS and BENCH_WIRE_PER_ROUND change the sample size.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import { loadConfig } from '../src/config/env.ts';
import { DEV_ACCOUNT, DEV_USER, startDev } from '../src/app/dev.ts';
import { createLogger } from '../src/log.ts';
import { brokerRead, dropPrefix, quantiles, runAlone, timedDriverRead, timedMs } from './common.ts';

// Non-sensitive columns only: the shipped policy allows this read at once.
const SQL = 'select customer_id, segment, city from analytics.public.customers where customer_id <= 3 order by customer_id';
const ROUNDS = Number(process.env.BENCH_WIRE_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_WIRE_PER_ROUND ?? 40);
const WARMUP = 20;

const summary = quantiles;

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function connect(options: snowflake.ConnectionOptions): Promise<snowflake.Connection> {
  const conn = snowflake.createConnection(options);
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return conn;
}

/** One timed 3-row SELECT on `conn`. */
const timed = (conn: snowflake.Connection) => timedDriverRead(conn, SQL);

export async function benchWire(o: { log: (line: string) => void }): Promise<{ report: string[] }> {
  const { log } = o;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-wire-${randomUUID().slice(0, 8)}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-bench-wire-'));
  log(`bench wire: starting Airlock dev stack (redis ${redisUrl}, prefix ${prefix})…`);
  const env = await startDev({
    config: loadConfig({ REDIS_URL: redisUrl, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_LOG_LEVEL: 'silent' }),
    logger: createLogger({ level: 'silent' }),
    stateDir,
    port: 0,
  });
  try {
    snowflake.configure({ logLevel: 'ERROR', additionalLogToConsole: false } as Parameters<typeof snowflake.configure>[0]);
    const direct = await connect({
      account: DEV_ACCOUNT,
      username: DEV_USER,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: await readFile(join(stateDir, 'snowflake-dev-key.p8'), 'utf8'),
      accessUrl: env.emulatorUrl,
    } as snowflake.ConnectionOptions);
    const token = await env.mintToken({ agent: 'bench-wire-agent', owner: 'bench@example.com' });
    const door = await connect({ account: 'airlock', authenticator: 'OAUTH', token, accessUrl: env.apiUrl } as snowflake.ConnectionOptions);

    const rest = () => timedMs(() => brokerRead(env.apiUrl, token, SQL));

    log(`bench wire: warming up (${WARMUP} each)…`);
    for (let i = 0; i < WARMUP; i++) {
      await timed(direct);
      await timed(door);
      await rest();
    }
    const directMs: number[] = [];
    const doorMs: number[] = [];
    const restMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < PER_ROUND; i++) directMs.push(await timed(direct));
      for (let i = 0; i < PER_ROUND; i++) doorMs.push(await timed(door));
      for (let i = 0; i < PER_ROUND; i++) restMs.push(await rest());
      log(`bench wire: round ${r + 1}/${ROUNDS} done`);
    }
    await Promise.all([direct, door].map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))));
    const d = summary(directMs);
    const w = summary(doorMs);
    const h = summary(restMs);
    return {
      report: [
        '',
        `Snowflake-wire door: 3-row SELECT with snowflake-sdk, warm, sequential, ${ROUNDS} alternating rounds of ${PER_ROUND}`,
        '| path | n | p50 | p90 | p99 |',
        '|---|---|---|---|---|',
        `| snowflake-sdk → emulator (direct) | ${d.n} | ${fmt(d.p50)} | ${fmt(d.p90)} | ${fmt(d.p99)} |`,
        `| snowflake-sdk → Airlock's wire door → queue → worker → snowflake-sdk → emulator | ${w.n} | ${fmt(w.p50)} | ${fmt(w.p90)} | ${fmt(w.p99)} |`,
        `| (reference) agent → POST /v1/queries → queue → worker → snowflake-sdk → emulator | ${h.n} | ${fmt(h.p50)} | ${fmt(h.p90)} | ${fmt(h.p99)} |`,
        '',
        `door overhead p50: ${fmt(w.p50 - d.p50)} (ratio ${(w.p50 / d.p50).toFixed(2)}x); p99: ${fmt(w.p99 - d.p99)}; door vs REST p50: ${fmt(w.p50 - h.p50)}`,
      ],
    };
  } finally {
    await env.close();
    await dropPrefix(redisUrl, prefix);
    await rm(stateDir, { recursive: true, force: true });
  }
}

runAlone(import.meta.url, benchWire);
