/**
 * Redis key names of the Snowflake-wire door, all under `{prefix}:wire:` and
 * all carrying their session's id as a Redis Cluster hash tag (`{…}`), so one
 * session's keys share a slot and any API replica can serve the session.
 */

export interface WireKeys {
  /** Hash: one wire session (agent, token hashes, expiries, context). */
  session(sessionId: string): string;
  /** String: the query id the driver's request id became (abort before the driver knows the query id). */
  request(sessionId: string, requestId: string): string;
  /** String: one result's chunk grant (query id, key hash, layout). */
  chunks(sessionId: string, grant: string): string;
}

/** The key names of an install whose keys start with `prefix`. */
export function wireKeys(prefix: string): WireKeys {
  const base = (sessionId: string) => `${prefix}:wire:{${sessionId}}`;
  return {
    session: (sessionId) => `${base(sessionId)}:session`,
    request: (sessionId, requestId) => `${base(sessionId)}:request:${requestId}`,
    chunks: (sessionId, grant) => `${base(sessionId)}:chunks:${grant}`,
  };
}
