/**
 * `airlock audit verify` and `airlock audit export [--since ISO]`.
 *
 * stdout carries one JSON line (the report) for scripts; progress and the
 * human sentence go to stderr. Exit codes: 0 fine, 1 the chain is broken
 * (verify), 2 usage error, 3 Redis or the export store unavailable.
 */
import { parseArgs } from 'node:util';
import { auditAdapters } from '../../app/redis.ts';
import { redisUrl, type Config } from '../../config/env.ts';
import { commandEnvironment } from '../lib/dev-environment.ts';
import { AirlockError, asAirlockError } from '../../errors.ts';
import { exportAudit, trimAudit } from '../../audit/export.ts';
import { verifyAll } from '../../audit/verify.ts';

const HELP = `Usage:
  airlock audit verify [--state-dir DIR] walk the hash chain in the exports and in Redis; exit 1 and
                                         name the first event edited, removed or reordered
  airlock audit export [--since ISO] [--ocsf] [--no-trim] [--retention SECONDS]
                                         export events not yet exported to AIRLOCK_EXPORT_DIR or
                                         AIRLOCK_EXPORT_S3_BUCKET, then trim exported events older
                                         than the retention (default 30 days) from Redis
Beside a running \`airlock dev\` (found through DIR/dev-lock.json, .airlock by default) both
use its Redis, key prefix and export folder unless REDIS_URL is set; each says which it used.`;

function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The options of `airlock audit verify|export`, or the usage exit code (2) after saying what is wrong. */
function parseAuditArgs(rest: string[]): { values: AuditOptions; since: Date | undefined } | number {
  let values: AuditOptions;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        since: { type: 'string' },
        ocsf: { type: 'boolean' },
        'no-trim': { type: 'boolean' },
        retention: { type: 'string' },
        'state-dir': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err(`${e instanceof Error ? e.message : String(e)}\n${HELP}`);
    return 2;
  }
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since && Number.isNaN(since.getTime())) {
    err(`--since must be an ISO time such as 2024-05-01T00:00:00Z, not ${values.since}`);
    return 2;
  }
  return { values, since };
}

/** The options `airlock audit` reads. */
interface AuditOptions {
  since?: string;
  ocsf?: boolean;
  'no-trim'?: boolean;
  retention?: string;
  'state-dir'?: string;
}

/** Run `airlock audit …`; returns the exit code. */
export async function runAudit(args: string[], configured: Config): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help') {
    err(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'verify' && sub !== 'export') {
    err(`unknown audit command: ${sub}\n${HELP}`);
    return 2;
  }
  const parsed = parseAuditArgs(rest);
  if (typeof parsed === 'number') return parsed;
  const { values, since } = parsed;
  // REDIS_URL when set, else the dev running in this folder, else the default: said before anything is read.
  const environment = await commandEnvironment(configured, values['state-dir'] ?? '.airlock');
  const { config } = environment;
  err(environment.sentence);
  if (environment.warning) err(environment.warning);
  const retentionSeconds = values.retention === undefined ? config.AIRLOCK_AUDIT_RETENTION_SECONDS : Number(values.retention);
  if (!Number.isInteger(retentionSeconds) || retentionSeconds < 0) {
    err('--retention must be a whole number of seconds');
    return 2;
  }

  const { redis, log, store } = auditAdapters(config);
  redis.on('error', () => undefined); // reported through the failing command instead
  try {
    await redis.connect().catch((cause: unknown) => {
      throw new AirlockError('AUDIT_UNAVAILABLE', `Redis does not answer at ${redisUrl(config)}.`, { cause });
    });
    if (sub === 'verify') {
      const report = await verifyAll(log, store, err);
      process.stdout.write(`${JSON.stringify({ ...report, environment: environment.summary })}\n`);
      if (!report.ok) {
        err(`TAMPERED: ${report.problem?.message ?? 'the audit chain is broken'}`);
        return 1;
      }
      const checked = (report.exports?.checked ?? 0) + report.redis.checked;
      err(`ok: ${checked} events checked (exports in ${store.description}, then Redis); the chain is intact`);
      if (checked === 0) err('There are no audit events in this environment yet; if you expected some, check the environment line above.');
      return 0;
    }
    err(`exporting to ${store.description}…`);
    const ocsf = values.ocsf ?? config.AIRLOCK_AUDIT_OCSF;
    const windowMs = config.AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS * 1000;
    const result = await exportAudit({ log, store, upTo: 'now', ocsf, windowMs, ...(since ? { since } : {}), progress: err });
    const trim = values['no-trim'] ? undefined : await trimAudit({ log, retentionMs: retentionSeconds * 1000 });
    process.stdout.write(`${JSON.stringify({ ...result, ...(trim ? { trimmed: trim } : {}), environment: environment.summary })}\n`);
    err(
      `done: ${result.events} events in ${result.files} files` +
        (result.adopted ? `, ${result.adopted} adopted from an interrupted run` : '') +
        (trim ? `; trimmed ${trim.events} events and ${trim.sessions} sessions older than ${retentionSeconds} s from Redis` : ''),
    );
    return 0;
  } catch (e) {
    const error = asAirlockError(e);
    err(`error ${error.code}: ${error.message}`);
    return 3;
  } finally {
    redis.disconnect();
  }
}
