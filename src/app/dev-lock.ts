/**
 * One `airlock dev` per state directory, and where it runs.
 *
 * `dev-lock.json` in the state directory is created exclusively (O_EXCL) before
 * dev starts anything, so a second `npm start` in the same folder refuses at
 * once instead of starting a second Redis on the same data or overwriting the
 * first one's issuer state. Once dev is up, the same file says where its Redis
 * (URL and key prefix), issuer, API and exports are, so `airlock audit` and
 * `airlock token` started beside it use that environment and no other.
 *
 * A lock left behind by a killed process is stale when its pid no longer runs;
 * the next start takes it over and stops the managed redis-server the killed
 * dev left running (only when that pid is still a redis-server).
 */
import { readFileSync } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redisUrl, type Config } from '../config/env.ts';
import { AirlockError } from '../errors.ts';

/** The lock file's name in the state directory. */
export const DEV_LOCK_FILE = 'dev-lock.json';

/** Where a running dev environment's parts are (written once it is up). */
export interface DevWhereabouts {
  apiUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** The managed redis-server child's pid, when dev started one. */
  redisPid?: number;
  issuer: string;
  /** Session-log exports (AIRLOCK_EXPORT_DIR), when they go to a folder. */
  exportDir?: string;
  /** AIRLOCK_EXPORT_S3_BUCKET, when exports go to S3. */
  exportBucket?: string;
}

/** What `dev-lock.json` holds: who holds it, and once up, where everything is. */
export interface DevLockContent extends Partial<DevWhereabouts> {
  pid: number;
  startedAt: string;
}

/** A held lock: fill in where things are once they run, release on close. */
export interface DevLock {
  path: string;
  /** The managed Redis is known before the rest: recorded at once so a kill -9 leaves its pid behind. */
  update(where: Partial<DevWhereabouts>): Promise<void>;
  release(): Promise<void>;
}

/** Where dev's parts are, from the config its roles run on. */
export function whereaboutsOf(config: Config, apiUrl: string): DevWhereabouts {
  return {
    apiUrl,
    redisUrl: redisUrl(config),
    redisPrefix: config.AIRLOCK_REDIS_PREFIX,
    issuer: config.OIDC_ISSUER ?? '',
    ...(config.AIRLOCK_EXPORT_DIR ? { exportDir: config.AIRLOCK_EXPORT_DIR } : {}),
    ...(config.AIRLOCK_EXPORT_S3_BUCKET ? { exportBucket: config.AIRLOCK_EXPORT_S3_BUCKET } : {}),
  };
}

/** A lock file younger than this with no content yet belongs to a start in progress, not to a crash. */
const UNWRITTEN_GRACE_MS = 10_000;

/** True when a process with this pid runs (ours or another user's); a zombie (exited, not yet reaped) does not. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Linux: the state after the command name in /proc/PID/stat; elsewhere the signal check is all there is.
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
  })();
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function readLock(path: string): Promise<DevLockContent | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && typeof (value as DevLockContent).pid === 'number') return value as DevLockContent;
  } catch {
    // Missing, empty (being written) or not ours: the caller decides from the file's age.
  }
  return undefined;
}

/** The running dev environment of `stateDir`, if one runs there (a stale or half-written lock is none). */
export async function runningDev(stateDir: string): Promise<DevLockContent | undefined> {
  const content = await readLock(join(stateDir, DEV_LOCK_FILE));
  return content && pidAlive(content.pid) ? content : undefined;
}

/** Why the lock is held, as the sentence a user reads. */
function heldMessage(stateDir: string, holder: DevLockContent | undefined): string {
  const who = holder ? `process ${holder.pid}, started ${holder.startedAt}${holder.apiUrl ? `, API at ${holder.apiUrl}` : ''}` : 'another start is in progress';
  const stop = holder ? `Stop it first (Ctrl-C in its terminal, or kill ${holder.pid})` : 'Wait for it, or stop it';
  return `Airlock dev is already running in this folder (${who}); its state is ${stateDir}. ${stop}, or use that one: nothing was started and its state is untouched.`;
}

/** Stop the redis-server a killed dev left behind, when the pid is still one (a reused pid is left alone). */
async function stopOrphanRedis(pid: number | undefined): Promise<void> {
  if (pid === undefined || !pidAlive(pid)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline.includes('redis-server')) process.kill(pid, 'SIGTERM');
}

/**
 * Refuse at once when a dev runs in `stateDir`: the CLI calls this before it
 * loads the heavy modules, so the answer takes a moment, not the seconds a
 * start-up takes. {@link acquireDevLock} stays the check that decides.
 */
export async function refuseIfDevRuns(stateDir: string): Promise<void> {
  const holder = await runningDev(stateDir);
  if (holder) throw new AirlockError('STATE_CONFLICT', heldMessage(resolve(stateDir), holder), { details: { stateDir, pid: holder.pid } });
}

/**
 * Take the lock of `stateDir`, or throw STATE_CONFLICT naming the running dev.
 * A stale lock (its pid is gone, or it stayed empty past a grace period) is taken over.
 */
export async function acquireDevLock(stateDir: string): Promise<DevLock> {
  const path = join(stateDir, DEV_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    const content: DevLockContent = { pid: process.pid, startedAt: new Date().toISOString() };
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
      } finally {
        await handle.close();
      }
      return heldLock(path, content);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0);
    const stale = holder ? !pidAlive(holder.pid) : age > UNWRITTEN_GRACE_MS;
    if (!stale) throw new AirlockError('STATE_CONFLICT', heldMessage(stateDir, holder), { details: { stateDir, ...(holder ? { pid: holder.pid } : {}) } });
    // Re-read just before taking it over: another start may have replaced the stale lock meanwhile.
    const again = await readLock(path);
    if (again?.pid !== holder?.pid || again?.startedAt !== holder?.startedAt) continue;
    await stopOrphanRedis(holder?.redisPid);
    // Move the stale file aside first: of two starts racing for it, only one rename succeeds.
    const aside = `${path}.stale-${process.pid}`;
    await rename(path, aside).then(() => rm(aside, { force: true })).catch(() => undefined);
  }
  throw new AirlockError('STATE_CONFLICT', heldMessage(stateDir, await readLock(path)));
}

function heldLock(path: string, initial: DevLockContent): DevLock {
  let content = initial;
  return {
    path,
    async update(where) {
      content = { ...content, ...where };
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    },
    async release() {
      // Only our own lock: never remove one a later start took over.
      const now = await readLock(path);
      if (now?.pid === process.pid && now.startedAt === initial.startedAt) await rm(path, { force: true });
    },
  };
}
