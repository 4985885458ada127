/**
 * What the query services need from the outside, declared here by the core
 * (STYLE habit 3) and implemented by adapters in `queue/`: the services never
 * import an adapter, and a test hands in a stand-in.
 */

import type { QueryRecord, ResultColumn } from './types.ts';

/** Where statements wait for a worker (the execute lane, `queue/execute-lane.ts`). */
export interface ExecuteJobs {
  /** Enqueue once: a second call for the same query is a no-op. */
  enqueue(queryId: string): Promise<void>;
  /** Drop a job that has not started; true when it was removed (best effort: the record decides). */
  remove(queryId: string): Promise<boolean>;
}

/** Something that wants the Slack card of a query brought up to date. */
export interface CardNotifier {
  /**
   * `change` names what happened (`opened`, `vote-2`, `finished`…): one job per
   * change, so a change that lands while an earlier job for the same card is
   * running is never swallowed by job-id dedupe; a replay of the same change is.
   */
  changed(queryId: string, change: string): Promise<void>;
}

/**
 * How a run ended, for a caller in the same process (the API running an
 * accepted query here): the record as its final write left it and, when it
 * succeeded, the first rows as stored — what a read of the store would give,
 * without the read.
 */
export interface Executed {
  record: QueryRecord;
  rows?: { columns: ResultColumn[]; rows: unknown[][] };
}

/**
 * A worker in the API's own process (the api and worker roles together): an
 * accepted query runs there at once when a slot is free, and the agent's
 * answer comes from the run itself instead of a wake-up and a read.
 */
export interface LocalRunner {
  /**
   * Start `queryId` here; undefined when no slot is free (the caller enqueues
   * it). Resolves when the outcome is stored, with the first `keepRows` rows;
   * undefined when this run did not end the query (another worker holds it,
   * or a retry was scheduled). Rejects when the run failed on Redis: the
   * caller hands the query on to the lane (a lease it took brings it back too).
   */
  run(queryId: string, keepRows: number): Promise<Executed | undefined> | undefined;
}
