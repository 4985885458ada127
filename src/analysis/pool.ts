/**
 * A small, fixed pool of analysis threads (node:worker_threads) with a bounded
 * wait queue, so analysing one large statement never stalls the event loop
 * that serves /healthz and every other agent. Saturated, it refuses at once
 * with ANALYSIS_BUSY (503; the caller has recorded and run nothing). A thread
 * that dies or runs past the time limit is replaced, and its statement is
 * reported as {@link AnalysisStopped}, never as a decision.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SelectLineage } from '../masking/lineage.ts';
import type { Decision } from '../policy/decision.ts';
import type { EvaluationContext } from '../policy/engine.ts';
import type { Defaults } from '../policy/names.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import type { ThreadReply, ThreadTask } from './messages.ts';

/** How the pool is sized. */
export interface AnalysisPoolOptions {
  /** Threads, started on first use and kept. */
  threads: number;
  /** Statements that may wait for a thread; one more is refused with ANALYSIS_BUSY. */
  queueLimit: number;
  /** Longest analysis of one statement before its thread is replaced (AnalysisStopped). */
  timeoutMs: number;
  logger?: Logger;
}

/**
 * The pool's defaults (AIRLOCK_ANALYSIS_THREADS, _QUEUE, _TIMEOUT_MS): two
 * threads (a statement of 100 KB takes 0.1–1 s; two keep one slow statement
 * from holding up the next), 16 waiting statements, 10 s per statement.
 */
export const ANALYSIS_POOL = { threads: 2, queueLimit: 16, timeoutMs: 10_000 } as const;

/** The analysis of a statement did not finish (the thread died or ran out of time): the statement is too complex. */
export class AnalysisStopped extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'AnalysisStopped';
  }
}

/** What a thread answers: a decision or a lineage. */
type Outcome = Decision | SelectLineage;

interface Pending {
  task: ThreadTask;
  resolve: (outcome: Outcome) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker?: Worker;
  current?: Pending;
}

/**
 * Compiled, the thread is thread.js beside this file. From source (tsx,
 * vitest) it is thread.ts: a bootstrap registers tsx's ESM hooks in the
 * thread first (Node 20 does not apply `--import tsx` to a worker's entry).
 */
function startThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./thread.js', import.meta.url));
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}

const shuttingDown = () => new AirlockError('ANALYSIS_BUSY', 'Airlock is shutting down; nothing was recorded or run. Retry shortly.');

export class AnalysisPool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: AnalysisPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.threads) }, () => ({}));
  }

  /** Evaluate `sql` under `policy` on a thread; rejects with ANALYSIS_BUSY when every thread is busy and the queue is full. */
  evaluate(policy: ParsedPolicy, sql: string, ctx: EvaluationContext): Promise<Decision> {
    return this.submit({ id: this.nextId++, kind: 'decide', policy, sql, ctx }) as Promise<Decision>;
  }

  /** The lineage of a result's columns (src/masking/lineage.ts) traced on a thread; rejects as {@link evaluate} does. */
  lineage(sql: string, defaults: Defaults): Promise<SelectLineage> {
    return this.submit({ id: this.nextId++, kind: 'lineage', sql, defaults }) as Promise<SelectLineage>;
  }

  private submit(task: ThreadTask): Promise<Outcome> {
    const idle = this.slots.find((s) => !s.current);
    if (this.closed || (!idle && this.queue.length >= this.options.queueLimit)) {
      return Promise.reject(
        new AirlockError('ANALYSIS_BUSY', 'Airlock is analysing too many large statements right now; nothing was recorded or run. Retry shortly.', {
          details: { retryAfterSeconds: 1 },
        }),
      );
    }
    return new Promise<Outcome>((resolve, reject) => {
      const pending: Pending = { task, resolve, reject };
      if (idle) this.run(idle, pending);
      else this.queue.push(pending);
    });
  }

  /** Threads busy and statements waiting, for metrics and tests. */
  load(): { busy: number; queued: number; threads: number } {
    return { busy: this.slots.filter((s) => s.current).length, queued: this.queue.length, threads: this.slots.length };
  }

  /** Refuse what waits and stop every thread. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(shuttingDown());
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        // Not AnalysisStopped: a statement caught by the shutdown is not too complex, it was never decided (503, retry elsewhere).
        if (slot.current) this.settle(slot, shuttingDown());
        await worker?.terminate();
      }),
    );
  }

  private run(slot: Slot, pending: Pending): void {
    slot.current = pending;
    pending.timer = setTimeout(() => this.replace(slot, `its analysis took longer than ${this.options.timeoutMs} ms`), this.options.timeoutMs);
    (slot.worker ??= this.spawn(slot)).postMessage(pending.task);
  }

  private spawn(slot: Slot): Worker {
    const worker = startThread();
    // A pool nobody closed never keeps the process alive.
    worker.unref();
    worker.on('message', (reply: ThreadReply) => {
      if (slot.worker !== worker || slot.current?.task.id !== reply.id) return;
      this.settle(slot, 'error' in reply ? new Error(`the analysis thread failed: ${reply.error}`) : 'decision' in reply ? reply.decision : reply.lineage);
    });
    worker.on('error', (err) => {
      this.options.logger?.warn({ component: 'analysis', err: err.message }, 'analysis thread failed; replacing it');
      if (slot.worker === worker) this.replace(slot, 'its analysis stopped');
    });
    worker.on('exit', () => {
      if (slot.worker === worker) this.replace(slot, 'its analysis stopped');
    });
    return worker;
  }

  /** Stop the slot's thread (a new one starts with the next task) and report its statement as not analysed. */
  private replace(slot: Slot, why: string): void {
    const worker = slot.worker;
    slot.worker = undefined;
    void worker?.terminate();
    if (slot.current) this.settle(slot, new AnalysisStopped(why));
  }

  /** Hand the slot's statement its outcome, then take the next waiting one. */
  private settle(slot: Slot, outcome: Outcome | Error): void {
    const pending = slot.current;
    slot.current = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      if (outcome instanceof Error) pending.reject(outcome);
      else pending.resolve(outcome);
    }
    const next = this.closed ? undefined : this.queue.shift();
    if (next) this.run(slot, next);
  }
}
