/**
 * The analysis pool on real worker threads: large statements are decided
 * there exactly as in process, a saturated pool refuses at once with
 * ANALYSIS_BUSY, a thread that runs out of time is replaced and its statement
 * denied as SQL_TOO_COMPLEX, and a reloaded policy decides the next statement.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { offloadingEvaluate } from '../../src/analysis/offload.ts';
import { AnalysisPool, AnalysisStopped } from '../../src/analysis/pool.ts';
import { isAirlockError } from '../../src/errors.ts';
import { selectLineage } from '../../src/masking/lineage.ts';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy, type ParsedPolicy } from '../../src/policy/schema.ts';
import { PATHOLOGICAL_SQL } from '../support/pathological-sql.ts';

async function shipped(edit: (yaml: string) => string = (y) => y): Promise<ParsedPolicy> {
  const r = parsePolicy(edit(await readFile('policies/default.yaml', 'utf8')));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}
const ctx = { agent: 'pool-agent', groups: ['analysts'] };
const large = `select customer_id, segment from customers where customer_id in (${Array.from({ length: 4_000 }, (_, i) => i).join(',')}) limit 10`;
const pools: AnalysisPool[] = [];
const pool = (threads: number, queueLimit: number, timeoutMs = 30_000) => {
  const p = new AnalysisPool({ threads, queueLimit, timeoutMs });
  pools.push(p);
  return p;
};

afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

describe('analysis pool', () => {
  it('decides a large statement on a thread exactly as the engine does in process', async () => {
    const policy = await shipped();
    const inProcess = createPolicyEngine(policy, { cacheSize: 0 });
    const p = pool(2, 4);
    for (const sql of [large, PATHOLOGICAL_SQL['5,000 ORs']!, PATHOLOGICAL_SQL['500 chained CTEs']!]) {
      expect(await p.evaluate(policy, sql, ctx)).toEqual(inProcess.evaluate(sql, ctx));
    }
    expect(p.load()).toEqual({ busy: 0, queued: 0, threads: 2 });
  }, 60_000);

  it("traces a large statement's lineage on a thread exactly as in process", async () => {
    const defaults = { database: 'ANALYTICS', schema: 'PUBLIC' };
    const p = pool(1, 2);
    for (const sql of [large, PATHOLOGICAL_SQL['500 chained CTEs']!, PATHOLOGICAL_SQL['CASE nested 2,500 deep']!]) {
      expect(await p.lineage(sql, defaults)).toEqual(selectLineage(sql, defaults));
    }
  }, 60_000);

  it('refuses at once with ANALYSIS_BUSY when every thread is busy and the queue is full', async () => {
    const policy = await shipped();
    const p = pool(1, 1);
    const first = p.evaluate(policy, large, ctx);
    const second = p.evaluate(policy, large, ctx);
    const third = p.evaluate(policy, large, ctx).then(
      () => 'decided',
      (err: unknown) => (isAirlockError(err, 'ANALYSIS_BUSY') ? 'busy' : String(err)),
    );
    expect(await third).toBe('busy');
    expect((await first).action).toBe('allow');
    expect((await second).action).toBe('allow');
  }, 60_000);

  it('replaces a thread that runs out of time; the statement is denied as SQL_TOO_COMPLEX and the pool goes on', async () => {
    const policy = await shipped();
    const p = pool(1, 2, 1);
    await expect(p.evaluate(policy, large, ctx)).rejects.toBeInstanceOf(AnalysisStopped);
    const evaluate = offloadingEvaluate({ inProcess: () => expect.fail('in process'), current: () => policy, pool: p, thresholdBytes: 1024 });
    const decision = await evaluate(large, ctx);
    expect(decision.action).toBe('deny');
    expect(decision.complete).toBe(false);
    expect(decision.reasons.map((r) => r.code)).toEqual(['SQL_TOO_COMPLEX']);
    expect(decision.fingerprint).toBe(createPolicyEngine(policy).evaluate(large, ctx).fingerprint);
  }, 60_000);

  it('sends the policy in force with each statement: a reload decides the next one', async () => {
    const before = await shipped();
    const after = await shipped((y) => y.replace('name: airlock-default', 'name: airlock-reloaded'));
    const p = pool(1, 2);
    let current = before;
    const evaluate = offloadingEvaluate({ inProcess: () => expect.fail('in process'), current: () => current, pool: p, thresholdBytes: 1024 });
    expect((await evaluate(large, ctx)).policy?.version).toBe(before.version);
    current = after;
    expect((await evaluate(large, ctx)).policy).toEqual({ name: 'airlock-reloaded', version: after.version });
  }, 60_000);

  it('keeps statements up to the threshold in process: they are decided even when the pool refuses everything', async () => {
    const policy = await shipped();
    const engine = createPolicyEngine(policy);
    const p = pool(1, 0);
    await p.close();
    const evaluate = offloadingEvaluate({ inProcess: (sql, c) => engine.evaluate(sql, c), current: () => policy, pool: p, thresholdBytes: Buffer.byteLength(large) });
    expect((await evaluate(large, ctx)).action).toBe('allow');
    const err = await evaluate(`${large} `, ctx).catch((e: unknown) => e);
    expect(isAirlockError(err, 'ANALYSIS_BUSY')).toBe(true);
  });
});
