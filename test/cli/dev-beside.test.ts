/**
 * `airlock dev` as a new user runs it, in real processes: started in a fresh
 * folder with no REDIS_URL (so it runs its own redis-server on a free port),
 * then the commands a user types in a second terminal of the same folder.
 *
 * - a second `airlock dev` refuses at once, naming the running one, and leaves
 *   its state (`.airlock/`) untouched;
 * - `airlock token` and `airlock audit verify|export` use the running dev's
 *   issuer, Redis, key prefix and export folder — not the Redis on 6379 the
 *   test suite itself uses — and say so;
 * - after `kill -9` the stale lock is taken over, and the redis-server the
 *   killed dev left behind is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { pidAlive } from '../../src/app/dev-lock.ts';
import { until } from '../support/until.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
/** Node with tsx's loader in the same process (the `tsx` command would put a wrapper between our pid and dev's). */
const NODE_ARGS = ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, MAIN];

/** The environment a new user has: PATH and HOME, nothing Airlock-specific (no REDIS_URL). */
const userEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'warn' });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `airlock ARGS` run in `cwd` to its end (bounded). */
function airlockIn(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd, env: { ...userEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A long-running `airlock dev` in `cwd`, with its stderr so far and its API URL once ready. */
function startDevProcess(cwd: string): { child: ChildProcess; output: () => string; ready: Promise<string> } {
  const child = spawn(process.execPath, [...NODE_ARGS, 'dev'], { cwd, env: userEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const ready = until('airlock dev to be ready', () => /Airlock is ready at (\S+)/.exec(stderr)?.[1] ?? (child.exitCode !== null ? 'exited' : undefined), 120_000);
  return { child, output: () => stderr, ready };
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

let folder: string;
const started: ChildProcess[] = [];
const redisPids = new Set<number>();

async function lockOf(): Promise<{ pid: number; redisPid?: number; redisUrl?: string; apiUrl?: string }> {
  return JSON.parse(await readFile(join(folder, '.airlock/dev-lock.json'), 'utf8'));
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'airlock-firstrun-'));
});

afterAll(async () => {
  // Only what this file started: its dev processes and the redis-servers they ran.
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of redisPids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(folder, { recursive: true, force: true });
});

describe('airlock dev in a fresh folder, and commands beside it', () => {
  let apiUrl: string;
  let devPid: number;
  let managedRedis: string;

  it('starts on its own redis-server and records where everything is', async () => {
    const dev = startDevProcess(folder);
    started.push(dev.child);
    apiUrl = await dev.ready;
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Progress while the demo data is seeded, then the ready banner.
    expect(dev.output()).toMatch(/seeding the demo data \(10,000 customers, 50,000 orders, 500 employees\)/);
    const tables: Array<[table: string, rows: string]> = [['ANALYTICS.PUBLIC.CUSTOMERS', '10,000'], ['ANALYTICS.PUBLIC.ORDERS', '50,000'], ['HR.CORE.EMPLOYEES', '500']];
    for (const [table, rows] of tables) {
      expect(dev.output()).toMatch(new RegExp(`loaded ${table.replace(/\./g, '\\.')}: ${rows} rows in \\d+\\.\\d s`));
    }
    expect(dev.output()).toMatch(/demo data ready in \d+\.\d s/);
    const lock = await lockOf();
    devPid = lock.pid;
    expect(devPid).toBe(dev.child.pid);
    expect(lock.apiUrl).toBe(apiUrl);
    expect(lock.redisPid).toBeGreaterThan(0);
    redisPids.add(lock.redisPid!);
    managedRedis = lock.redisUrl!;
    expect(managedRedis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(managedRedis).not.toBe('redis://127.0.0.1:6379');
  }, 150_000);

  it('a second airlock dev in the same folder refuses at once and leaves the first one’s state alone', async () => {
    const stateBefore = await Promise.all(['dev-lock.json', 'dev-issuer.json'].map((f) => readFile(join(folder, '.airlock', f), 'utf8')));
    const filesBefore = (await readdir(join(folder, '.airlock'))).sort();
    const second = await airlockIn(folder, ['dev']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`airlock: STATE_CONFLICT: Airlock dev is already running in this folder (process ${devPid}`);
    expect(second.stderr).toContain(`API at ${apiUrl}`);
    expect(second.stderr).toContain(`kill ${devPid}`);
    // It started nothing: no emulator seeding, no redis line, no banner.
    expect(second.stderr).not.toMatch(/seeding|redis {6}|Airlock is ready/);
    const stateAfter = await Promise.all(['dev-lock.json', 'dev-issuer.json'].map((f) => readFile(join(folder, '.airlock', f), 'utf8')));
    expect(stateAfter).toEqual(stateBefore);
    expect((await readdir(join(folder, '.airlock'))).sort()).toEqual(filesBefore);
    // The first one still serves.
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
  }, 90_000);

  it('airlock token uses the running dev’s issuer and says so; audit verify and export use its Redis and exports', async () => {
    const token = await airlockIn(folder, ['token', '--agent', 'beside-dev']);
    expect(token.code).toBe(0);
    const jwt = token.stdout.trim();
    expect(decodeJwt(jwt).sub).toBe('beside-dev');
    expect(token.stderr).toContain(`(the airlock dev running in this folder (pid ${devPid}, API ${apiUrl}))`);
    const lock = await lockOf();
    expect(token.stderr).toContain(`from the dev issuer ${decodeJwt(jwt).iss}`);

    // Something to audit: one query through the running dev.
    const res = await fetch(`${apiUrl}/v1/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'select customer_id from customers limit 1', waitMs: 10_000 }),
    });
    expect(((await res.json()) as { status: string }).status).toBe('succeeded');

    const verify = await airlockIn(folder, ['audit', 'verify']);
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; redis: { checked: number }; environment: Record<string, unknown> };
    expect(report.ok).toBe(true);
    expect(report.redis.checked).toBeGreaterThan(0);
    expect(report.environment).toEqual({ source: 'airlock dev', redis: lock.redisUrl, prefix: 'airlock', devPid });
    expect(verify.stderr).toContain(`environment: the airlock dev running in this folder (pid ${devPid}): Redis ${lock.redisUrl}, key prefix airlock`);

    const exported = await airlockIn(folder, ['audit', 'export', '--no-trim']);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain(`exports in ${join(folder, '.airlock', 'exports')}`);
    expect(JSON.parse(exported.stdout).environment.source).toBe('airlock dev');

    // REDIS_URL set by the user wins, and the mix-up is pointed out.
    const explicit = await airlockIn(folder, ['audit', 'verify'], {
      REDIS_URL: 'redis://127.0.0.1:6379',
      AIRLOCK_REDIS_PREFIX: `firstrun-empty-${devPid}`,
      AIRLOCK_EXPORT_DIR: join(folder, 'no-exports'),
    });
    expect(JSON.parse(explicit.stdout).environment).toMatchObject({ source: 'REDIS_URL', redis: 'redis://127.0.0.1:6379' });
    expect(explicit.stderr).toContain(`note: the airlock dev running in this folder (pid ${devPid}) uses ${lock.redisUrl}`);
    expect(explicit.stderr).toContain('There are no audit events in this environment yet');
  }, 120_000);

  it('after kill -9 the stale lock is taken over and the orphaned redis-server is stopped', async () => {
    const first = started[0]!;
    const { redisPid } = await lockOf();
    first.kill('SIGKILL');
    await exited(first);
    expect(pidAlive(redisPid!)).toBe(true); // orphaned: nobody stopped it

    const again = startDevProcess(folder);
    started.push(again.child);
    const url = await again.ready;
    expect(url).toMatch(/^http:\/\//);
    const lock = await lockOf();
    expect(lock.pid).toBe(again.child.pid);
    redisPids.add(lock.redisPid!);
    await until('the orphaned redis-server to stop', () => !pidAlive(redisPid!) || undefined, 10_000);

    // A clean stop removes the lock and stops its redis-server.
    again.child.kill('SIGTERM');
    await exited(again.child);
    await expect(readFile(join(folder, '.airlock/dev-lock.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    await until('the managed redis-server to stop', () => !pidAlive(lock.redisPid!) || undefined, 10_000);
  }, 180_000);
});
