/**
 * What the query services need from the outside, declared here by the core
 * (STYLE habit 3) and implemented by adapters in `queue/`: the services never
 * import an adapter, and a test hands in a stand-in.
 */

/** Where statements wait for a worker (BullMQ's `execute` queue; the job id is the query id). */
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
