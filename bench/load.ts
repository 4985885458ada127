/**
 * Throughput and overhead of the allowed-read path, against the same driver
 * straight to the same emulator, in one run (docs/benchmarks.md, "Throughput
 * and overhead"):
 *
 * - **processes** as deployed: the emulator alone (`airlock emulator`), the
 *   broker alone (bench/broker.ts: the api and worker roles, as `airlock
 *   serve --roles api,worker`), Redis, and this process as the agents (HTTP
 *   clients) and the direct driver's clients. Nothing is shared between the
 *   two paths but the emulator and the machine.
 * - **single-agent overhead**: one agent, sequential, alternating rounds of
 *   the direct driver (one open connection) and the broker (`POST /v1/queries`
 *   with `waitMs`); overhead = broker p50 − direct p50.
 * - **throughput** at 1, 16 and 64 concurrent agents: a closed loop per agent
 *   for a fixed window; the direct side gives each agent its own connection,
 *   as agents holding warehouse keys would. Direct and broker windows
 *   alternate (direct, broker, broker, direct) so a noisy neighbour hits both.
 *
 * The statement is the 3-row allowed read of bench/run.ts. Needs Redis on
 * REDIS_URL; a throw-away key prefix is deleted afterwards. `npm run bench`
 * runs it; alone: `BENCH_ONLY=load npm run bench`. BENCH_LOAD_SECONDS (window,
 * default 4), BENCH_LOAD_LEVELS (default 1,16,64), BENCH_LOAD_SAMPLES
 * (sequential samples per path, default 300) and AIRLOCK_* variables (passed
 * to the broker) change it; BENCH_LOAD_CPU_PROF=<dir> writes the broker
 * process's V8 CPU profile there (a flame graph in Chrome DevTools);
 * BENCH_BROKER_NODE_FLAGS (e.g. `--max-semi-space-size=32`) are given to the
 * broker's node.
 * BENCH_LOAD_SPLIT=1 adds a third path: the api and worker roles as two
 * processes (`serve --roles api` + `serve --roles worker`), as a deployment
 * with separate pods runs them. BENCH_LOAD_BASELINE=<dir> (another checkout of Airlock beside this one,
 * e.g. `git worktree add /tmp/before <rev>` with node_modules linked) runs its
 * broker too, on the same emulator and in the same alternation: before and
 * after in one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snowflake from 'snowflake-sdk';
import { DEV_ACCOUNT, DEV_AUDIENCE, DEV_USER } from '../src/app/dev.ts';
import { startDevIssuer } from '../src/identity/dev-issuer.ts';
import { ALLOWED_READ, brokerRead, dropPrefix, quantiles, runAlone } from './common.ts';

const CONTEXT = { database: 'ANALYTICS', schema: 'PUBLIC', warehouse: 'DEV_WH' } as const;

/** One way of running the read: the direct driver, or a broker process. */
interface Path {
  label: string;
  /** Read functions, one per agent. */
  agents: Array<() => Promise<void>>;
}

export interface LoadBenchResult {
  report: string[];
  /** p50 of one agent's sequential reads, per path label. */
  p50: Record<string, number>;
  /** Reads per second per path label, per level of concurrent agents. */
  throughput: Array<{ agents: number; perSecond: Record<string, number> }>;
}

/** A child process that prints its URL as its first stdout line. */
interface Child {
  url: string;
  stop(): Promise<void>;
}

const ROOT = new URL('..', import.meta.url);

async function startChild(what: string, args: string[], env: Record<string, string>, options: { nodeFlags?: string[]; cwd?: string | URL } = {}): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const errText: string[] = [];
  child.stderr!.on('data', (c: Buffer) => errText.push(c.toString('utf8')));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (exited || !child.pid) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => !exited && child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 120 s:\n${errText.join('')}`)), 120_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = /^(http:\/\/\S+)\n/m.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(line[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${errText.join('')}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { url, stop };
}

/** One driver connection to the emulator, key-pair auth, as the worker logs in. */
async function directConnection(emulatorUrl: string, privateKey: string): Promise<snowflake.Connection> {
  const conn = snowflake.createConnection({
    account: DEV_ACCOUNT,
    username: DEV_USER,
    authenticator: 'SNOWFLAKE_JWT',
    privateKey,
    accessUrl: emulatorUrl,
    ...CONTEXT,
  } as snowflake.ConnectionOptions);
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return conn;
}

/** One 3-row read on `conn`, the rows fetched. */
function directRead(conn: snowflake.Connection): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    conn.execute({
      sqlText: ALLOWED_READ,
      complete: (err, _stmt, rows) => {
        if (err) return reject(err);
        if (rows?.length !== 3) return reject(new Error(`direct: expected 3 rows, got ${rows?.length}`));
        resolve();
      },
    });
  });
}

/** Closed loops, one per agent, for `ms`: completed reads per second. */
async function closedLoop(agents: Array<() => Promise<void>>, ms: number): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  const until = t0 + ms;
  await Promise.all(
    agents.map(async (read) => {
      while (performance.now() < until) {
        await read();
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

const ms = (v: number) => `${v.toFixed(2)} ms`;
const rate = (v: number) => `${Math.round(v)}/s`;

/** The broker's settings as the run used them (AIRLOCK_* from this process's environment are passed on). */
function passedOn(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('AIRLOCK_') && v !== undefined && k !== 'AIRLOCK_REDIS_PREFIX') out[k] = v;
  return out;
}

/** Sequential reads of one agent, the paths in alternating rounds: p50 per path. */
async function singleAgent(paths: Path[], samples: number, log: (line: string) => void): Promise<{ p50: Record<string, number>; lines: string[] }> {
  const times = paths.map(() => [] as number[]);
  const rounds = 6;
  for (let r = 0; r < rounds; r++) {
    for (const [k, path] of paths.entries()) {
      for (let i = 0; i < samples / rounds; i++) {
        const t0 = performance.now();
        await path.agents[0]!();
        times[k]!.push(performance.now() - t0);
      }
    }
  }
  const q = times.map(quantiles);
  const p50 = Object.fromEntries(paths.map((p, k) => [p.label, q[k]!.p50]));
  log(`load: single agent p50 ${paths.map((p, k) => `${p.label} ${ms(q[k]!.p50)}`).join(', ')}`);
  const direct = q[0]!.p50;
  const lines = [
    '| single agent, sequential | n | p50 | p90 | p99 | overhead p50 |',
    '|---|---|---|---|---|---|',
    ...paths.map((p, k) => `| ${p.label} | ${q[k]!.n} | ${ms(q[k]!.p50)} | ${ms(q[k]!.p90)} | ${ms(q[k]!.p99)} | ${k === 0 ? '' : ms(q[k]!.p50 - direct)} |`),
  ];
  return { p50, lines };
}

/** Closed loops at each level, the paths in alternating windows (forwards, then backwards). */
async function atLevels(paths: Path[], levels: number[], seconds: number, log: (line: string) => void): Promise<{ throughput: LoadBenchResult['throughput']; lines: string[] }> {
  const throughput: LoadBenchResult['throughput'] = [];
  const window = (seconds * 1000) / 2;
  for (const n of levels) {
    const rates = paths.map(() => [] as number[]);
    for (const order of [paths.map((_, k) => k), paths.map((_, k) => paths.length - 1 - k)]) {
      for (const k of order) rates[k]!.push(await closedLoop(paths[k]!.agents.slice(0, n), window));
    }
    const perSecond = Object.fromEntries(paths.map((p, k) => [p.label, (rates[k]![0]! + rates[k]![1]!) / 2]));
    throughput.push({ agents: n, perSecond });
    log(`load: ${n} agents: ${paths.map((p, k) => `${p.label} ${rates[k]!.map(rate).join(', ')}`).join('; ')}`);
  }
  const direct = paths[0]!.label;
  const lines = [
    `| concurrent agents | ${paths.map((p) => p.label).join(' | ')} | ${paths.slice(1).map((p) => `${p.label} / direct`).join(' | ')} |`,
    `|---|${paths.map(() => '---|').join('')}${paths.slice(1).map(() => '---|').join('')}`,
    ...throughput.map((t) => `| ${t.agents} | ${paths.map((p) => rate(t.perSecond[p.label]!)).join(' | ')} | ${paths.slice(1).map((p) => (t.perSecond[p.label]! / t.perSecond[direct]!).toFixed(2)).join(' | ')} |`),
    `(${seconds} s per path and level, in two halves: the paths in order, then in reverse; goal at 64 agents: ≥ 0.70)`,
  ];
  return { throughput, lines };
}

export async function benchLoad(options: { log: (line: string) => void }): Promise<LoadBenchResult> {
  const { log } = options;
  const seconds = Number(process.env.BENCH_LOAD_SECONDS ?? 4);
  const levels = (process.env.BENCH_LOAD_LEVELS ?? '1,16,64').split(',').map(Number);
  const samples = Number(process.env.BENCH_LOAD_SAMPLES ?? 300);
  // A V8 CPU profile of the broker process (open it in Chrome DevTools or speedscope for a flame graph).
  const cpuProfileDir = process.env.BENCH_LOAD_CPU_PROF;
  // Another checkout (same node_modules) whose broker runs beside this one: before/after in one run.
  const baseline = process.env.BENCH_LOAD_BASELINE;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-load-${randomUUID().slice(0, 8)}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-bench-load-'));
  const stops: Array<() => Promise<unknown>> = [];
  snowflake.configure({ logLevel: 'ERROR', additionalLogToConsole: false } as Parameters<typeof snowflake.configure>[0]);
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyPath = join(stateDir, 'key.p8');
    const pubPath = join(stateDir, 'key.pub');
    await writeFile(keyPath, privateKey, { mode: 0o600 });
    await writeFile(pubPath, publicKey);
    log('load: starting the emulator process…');
    const emulator = await startChild('emulator', ['src/cli/main.ts', 'emulator', '--port', '0', '--seed', 'demo', '--account', DEV_ACCOUNT, '--user', DEV_USER, '--public-key', pubPath], {
      AIRLOCK_LOG_LEVEL: 'error',
    });
    stops.push(() => emulator.stop());
    const issuer = await startDevIssuer({ audience: DEV_AUDIENCE, stateDir });
    stops.push(() => issuer.close());
    const settings = passedOn();
    const brokerEnv = (keyPrefix: string) => ({
      REDIS_URL: redisUrl,
      AIRLOCK_REDIS_PREFIX: keyPrefix,
      AIRLOCK_LOG_LEVEL: 'warn',
      AIRLOCK_PORT: '0',
      AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0',
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: DEV_AUDIENCE,
      SNOWFLAKE_ACCOUNT: DEV_ACCOUNT,
      SNOWFLAKE_USER: DEV_USER,
      SNOWFLAKE_PRIVATE_KEY_PATH: keyPath,
      SNOWFLAKE_ACCESS_URL: emulator.url,
      SNOWFLAKE_DATABASE: CONTEXT.database,
      SNOWFLAKE_SCHEMA: CONTEXT.schema,
      SNOWFLAKE_WAREHOUSE: CONTEXT.warehouse,
      ...settings,
    });
    const brokers: Array<{ label: string; url: string }> = [];
    for (const [label, cwd] of [['broker', ROOT], ...(baseline ? [['baseline broker', baseline]] : [])] as Array<[string, string | URL]>) {
      log(`load: starting the ${label} process (${String(cwd)}; api + worker; ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'})…`);
      const nodeFlags = [...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []), ...(process.env.BENCH_BROKER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
      const child = await startChild(label, ['bench/broker.ts'], brokerEnv(`${prefix}-${brokers.length}`), { cwd, nodeFlags });
      stops.push(() => child.stop());
      brokers.push({ label, url: child.url });
    }
    if (process.env.BENCH_LOAD_SPLIT === '1') {
      // One install, two processes: the api role (agents' HTTP) and the worker role (the warehouse).
      const splitPrefix = `${prefix}-${brokers.length}`;
      log('load: starting the split broker (api process + worker process)…');
      const worker = await startChild('split worker', ['bench/broker.ts'], { ...brokerEnv(splitPrefix), BENCH_BROKER_ROLES: 'worker' });
      stops.push(() => worker.stop());
      const api = await startChild('split api', ['bench/broker.ts'], { ...brokerEnv(splitPrefix), BENCH_BROKER_ROLES: 'api' });
      stops.push(() => api.stop());
      brokers.push({ label: 'split broker', url: api.url });
    }

    const most = Math.max(...levels);
    const tokens = await Promise.all(Array.from({ length: most }, (_, i) => issuer.mintToken({ agent: `load-agent-${i}`, owner: `load-${i}@example.com` })));
    const conns: snowflake.Connection[] = [];
    stops.push(() => Promise.all(conns.map((c) => new Promise<void>((resolve) => c.destroy(() => resolve())))));
    for (let i = 0; i < most; i += 8) {
      conns.push(...(await Promise.all(Array.from({ length: Math.min(8, most - i) }, () => directConnection(emulator.url, privateKey)))));
    }
    const paths: Path[] = [
      { label: 'direct', agents: conns.map((c) => () => directRead(c)) },
      ...brokers.map((b) => ({ label: b.label, agents: tokens.map((t) => () => brokerRead(b.url, t).then(() => undefined)) })),
    ];
    log('load: warming up…');
    for (const path of paths) await closedLoop(path.agents.slice(0, most), 1500);
    const single = await singleAgent(paths, samples, log);
    const loaded = await atLevels(paths, levels, seconds, log);
    const report = [
      '',
      `Allowed 3-row read, broker vs direct driver (separate emulator and broker processes; ${new Date().toISOString()})`,
      `broker settings: ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'}${baseline ? `; baseline broker from ${baseline}` : ''}`,
      ...single.lines,
      '',
      ...loaded.lines,
    ];
    return { report, p50: single.p50, throughput: loaded.throughput };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await dropPrefix(redisUrl, prefix);
    await rm(stateDir, { recursive: true, force: true });
  }
}

runAlone(import.meta.url, benchLoad);
