/**
 * The one clock (STYLE habit 8): stores, services, card sync and the Slack
 * receiver take it as a parameter, so a test can freeze or move time and no
 * service reads the wall clock itself. Elapsed time (timeouts, durations) is
 * measured with `performance.now()`, which no wall clock should move.
 */
export type Clock = () => Date;

/** The wall clock. */
export const systemClock: Clock = () => new Date();
