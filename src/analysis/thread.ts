/**
 * One analysis worker thread: evaluates SQL under the policy it is sent (API
 * role) or traces a result's column lineage for masking (worker role), off the
 * main event loop (src/analysis/pool.ts starts it). Keeps an engine per
 * policy version, so a reloaded policy decides the next task without a
 * restart of the thread.
 */
import { parentPort } from 'node:worker_threads';
import { selectLineage } from '../masking/lineage.ts';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine.ts';
import type { ThreadReply, ThreadTask } from './messages.ts';

/** Engines by policy version; two are enough to cross a reload. */
const engines = new Map<string, PolicyEngine>();
/** Few cached decisions: every statement here is large, and a cache of large keys costs memory. */
const CACHE_SIZE = 64;

function engineFor(task: Extract<ThreadTask, { kind: 'decide' }>): PolicyEngine {
  let engine = engines.get(task.policy.version);
  if (!engine) {
    engine = createPolicyEngine(task.policy, { cacheSize: CACHE_SIZE });
    engines.set(task.policy.version, engine);
    if (engines.size > 2) engines.delete(engines.keys().next().value!);
  }
  return engine;
}

parentPort?.on('message', (task: ThreadTask) => {
  let reply: ThreadReply;
  try {
    reply =
      task.kind === 'decide' ? { id: task.id, decision: engineFor(task).evaluate(task.sql, task.ctx) } : { id: task.id, lineage: selectLineage(task.sql, task.defaults) };
  } catch (err) {
    // The engine turns what it cannot analyse into a decision; anything thrown is a fault, reported, never a decision.
    reply = { id: task.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
