/**
 * What `/readyz` checks, per role: Redis always (every role keeps its state
 * there); the worker role also that it can log in to Snowflake and run a
 * statement (a worker with a revoked key takes jobs it cannot run); the api
 * role that its OIDC issuer answers discovery (else no token verifies). Each
 * check is named in the answer, with a sentence when it fails.
 *
 * The Snowflake and issuer checks reach the network, and orchestrators probe
 * every few seconds: their outcome is kept for a while (a success longer than
 * a failure) and concurrent probes share one attempt.
 */
import type { Redis } from 'ioredis';
import { asAirlockError } from '../errors.ts';
import type { Warehouse } from '../warehouse/port.ts';

/** One check: true when ready, else the sentence saying why not. */
export type ReadinessCheck = () => Promise<true | string>;

/** Named checks, as `/readyz` reports them. */
export type ReadinessChecks = Record<string, ReadinessCheck>;

/** What `/readyz` answers with: every check by name, and why the failing ones fail. */
export interface ReadinessReport {
  checks: Record<string, boolean>;
  problems?: Record<string, string>;
}

/** How long an outcome is reused; failures are retried sooner. */
const KEEP_OK_MS = 30_000;
const KEEP_FAILED_MS = 5_000;
/** The longest one network check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 5_000;

/** `check`, with its outcome kept for a while and concurrent callers sharing one attempt. */
export function cached(check: ReadinessCheck, now: () => number = Date.now): ReadinessCheck {
  let last: { at: number; outcome: true | string } | undefined;
  let inFlight: Promise<true | string> | undefined;
  return () => {
    if (last && now() - last.at < (last.outcome === true ? KEEP_OK_MS : KEEP_FAILED_MS)) return Promise.resolve(last.outcome);
    inFlight ??= check()
      .catch((err: unknown) => `the check failed: ${asAirlockError(err).message}`)
      .then((outcome) => {
        last = { at: now(), outcome };
        inFlight = undefined;
        return outcome;
      });
    return inFlight;
  };
}

/** Redis answers PING on the process's command connection. */
export function redisCheck(command: Pick<Redis, 'ping'>): ReadinessCheck {
  return async () =>
    command.ping().then(
      (r) => (r === 'PONG' ? true : `Redis answered ${r} to PING.`),
      (err: unknown) => `Redis does not answer: ${err instanceof Error ? err.message : String(err)}.`,
    );
}

/**
 * The warehouse logs in and runs `SELECT 1` (no table is read). Give it the
 * warehouse as built, not a test's decorator, so probes do not show up as agents' statements.
 */
export function warehouseLoginCheck(warehouse: Warehouse): ReadinessCheck {
  return cached(async () => {
    try {
      const result = await warehouse.execute('SELECT 1', { timeoutMs: CHECK_TIMEOUT_MS, maxRows: 1, queryTag: 'airlock:readyz' });
      for await (const _row of result.rows) {
        // drain: the pooled connection goes back when the rows end
      }
      return true;
    } catch (err) {
      const e = asAirlockError(err);
      return `The worker cannot run statements on Snowflake (${e.code}): ${e.message}`;
    }
  });
}

/** The issuer serves its discovery document (`<issuer>/.well-known/openid-configuration`). */
export function issuerCheck(issuer: string, fetchImpl: typeof fetch = fetch): ReadinessCheck {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return cached(async () => {
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      await res.body?.cancel();
      return res.ok ? true : `The OIDC issuer answered ${res.status} at ${url}; no agent token can be verified.`;
    } catch (err) {
      return `The OIDC issuer does not answer at ${url} (${err instanceof Error ? err.message : String(err)}); no agent token can be verified.`;
    }
  });
}

/** Run every check at once; the report names each, with the sentences of the failing ones. */
export async function runReadiness(checks: ReadinessChecks): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const outcomes = await Promise.all(names.map((name) => checks[name]!()));
  const report: ReadinessReport = { checks: {} };
  names.forEach((name, i) => {
    const outcome = outcomes[i]!;
    report.checks[name] = outcome === true;
    if (outcome !== true) (report.problems ??= {})[name] = outcome;
  });
  return report;
}
