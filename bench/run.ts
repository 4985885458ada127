/**
 * `npm run bench`: first the policy engine alone (bench/policy.ts: uncached and
 * cached classification on a corpus of agent statements), then approvals in
 * Slack against the fake Slack (bench/slack.ts: submit → card, click → execution
 * started, click → thread summary), then the warm latency
 * of a 3-row SELECT, in one run,
 *   1. through snowflake-sdk directly against the emulator (key-pair auth), and
 *   2. through the broker API (token check, gate, Redis record, BullMQ, worker,
 *      the same driver, result stored in Redis, long-poll wake-up).
 * Rounds alternate between the two so machine noise hits both alike; compare
 * the ratio and the difference, not absolute numbers. The same read as an MCP
 * run_query (bench/mcp.ts, both client generations over /mcp) joins the rounds.
 *
 * Needs Redis on REDIS_URL (default 127.0.0.1:6379); uses a unique key prefix
 * and deletes it afterwards.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deletePrefix } from './cleanup.ts';
import snowflake from 'snowflake-sdk';
import { loadConfig } from '../src/config/env.ts';
import { DEV_ACCOUNT, DEV_USER, startDev } from '../src/app/dev.ts';
import { createLogger } from '../src/log.ts';
import { benchPolicy } from './policy.ts';
import { benchSlack } from './slack.ts';
import { benchMasking } from './masking.ts';
import { benchAudit } from './audit.ts';
import { benchAnalysis } from './analysis.ts';
import { benchLoad } from './load.ts';
import { benchProfile } from './profile.ts';
import { benchWire } from './wire.ts';
import { mcpBenchPaths } from './mcp.ts';
import { ALLOWED_READ, brokerRead, quantiles, timedDriverRead, timedMs } from './common.ts';

/** `BENCH_ONLY=<name>` runs one part alone (a short run); the profile wraps prototypes, so it runs last in a full run. */
const PARTS: Record<string, (o: { log: (line: string) => void }) => Promise<{ report: string[] }>> = { load: benchLoad, wire: benchWire, profile: benchProfile, analysis: benchAnalysis };

const SQL = ALLOWED_READ;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 50);
const WARMUP = 30;

const summary = quantiles;

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  if (only) {
    const part = PARTS[only];
    if (!part) throw new Error(`BENCH_ONLY=${only}: no such part (${Object.keys(PARTS).join(', ')})`);
    process.stdout.write(`${(await part({ log: (line) => process.stderr.write(`${line}\n`) })).report.join('\n')}\n`);
    return;
  }
  // Masking first: its peak-RSS figure means something only in a process that has not yet started the dev stack.
  const masking = await benchMasking({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${masking.report.join('\n')}\n`);
  const policy = await benchPolicy({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${policy.report.join('\n')}\n`);
  const slack = await benchSlack({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${slack.report.join('\n')}\n`);
  const audit = await benchAudit({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${audit.report.join('\n')}\n`);
  // Large SQL and the event loop (bench/analysis.ts): the offload threshold and the /healthz stall, before and after.
  const analysis = await benchAnalysis({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${analysis.report.join('\n')}\n`);

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`bench: starting Airlock dev stack (redis ${redisUrl}, prefix ${prefix})…`);
  const env = await startDev({
    config: loadConfig({ REDIS_URL: redisUrl, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_LOG_LEVEL: 'silent' }),
    logger: createLogger({ level: 'silent' }),
    stateDir,
    port: 0,
  });
  try {
    const token = await env.mintToken({ agent: 'bench-agent', owner: 'bench@example.com' });

    snowflake.configure({ logLevel: 'ERROR', additionalLogToConsole: false } as Parameters<typeof snowflake.configure>[0]);
    const conn = snowflake.createConnection({
      account: DEV_ACCOUNT,
      username: DEV_USER,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: await readFile(join(stateDir, 'snowflake-dev-key.p8'), 'utf8'),
      accessUrl: env.emulatorUrl,
      database: 'ANALYTICS',
      schema: 'PUBLIC',
    } as snowflake.ConnectionOptions);
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));

    const direct = () => timedDriverRead(conn, SQL);

    const broker = () => timedMs(() => brokerRead(env.apiUrl, token, SQL));

    // The same read as an MCP tool call, beside the REST API (bench/mcp.ts).
    const mcp = await mcpBenchPaths(env.apiUrl, token, SQL);
    log(`bench: warming up (${WARMUP} each)…`);
    for (let i = 0; i < WARMUP; i++) {
      await direct();
      await broker();
      for (const path of mcp) await path.run();
    }
    const directMs: number[] = [];
    const brokerMs: number[] = [];
    const mcpMs: number[][] = mcp.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < PER_ROUND; i++) directMs.push(await direct());
      for (let i = 0; i < PER_ROUND; i++) brokerMs.push(await broker());
      for (const [k, path] of mcp.entries()) for (let i = 0; i < PER_ROUND; i++) mcpMs[k]!.push(await path.run());
      log(`bench: round ${r + 1}/${ROUNDS} done`);
    }
    const d = summary(directMs);
    const b = summary(brokerMs);
    const lines = [
      '',
      `3-row SELECT, warm, sequential, ${ROUNDS} alternating rounds of ${PER_ROUND}`,
      `| path | n | p50 | p90 | p99 |`,
      `|---|---|---|---|---|`,
      `| snowflake-sdk → emulator (direct) | ${d.n} | ${fmt(d.p50)} | ${fmt(d.p90)} | ${fmt(d.p99)} |`,
      `| agent → broker API → queue → worker → snowflake-sdk → emulator | ${b.n} | ${fmt(b.p50)} | ${fmt(b.p90)} | ${fmt(b.p99)} |`,
      ...mcp.map((path, k) => ({ path, m: summary(mcpMs[k]!) })).map(({ path, m }) => `| ${path.label} | ${m.n} | ${fmt(m.p50)} | ${fmt(m.p90)} | ${fmt(m.p99)} |`),
      '',
      `broker overhead p50: ${fmt(b.p50 - d.p50)} (ratio ${(b.p50 / d.p50).toFixed(2)}x); p99: ${fmt(b.p99 - d.p99)}`,
      ...mcp.map((path, k) => `MCP over REST p50 (${path.label.split(' → ')[1]}): ${fmt(summary(mcpMs[k]!).p50 - b.p50)}`),
    ];
    for (const path of mcp) await path.close();
    process.stdout.write(`${lines.join('\n')}\n`);
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
  } finally {
    await env.close();
    const redis = new Redis(redisUrl);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  }
  for (const part of [benchLoad, benchWire, benchProfile]) {
    process.stdout.write(`${(await part({ log: (line) => process.stderr.write(`${line}\n`) })).report.join('\n')}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
