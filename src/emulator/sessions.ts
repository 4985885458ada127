/**
 * Emulated Snowflake sessions: tokens, their expiry and renewal, and the
 * per-session state (context, parameters, DuckDB connection).
 *
 * One DuckDB connection per session keeps `USE`, temporary tables and open
 * transactions private to the session. Statements of one session run one at a
 * time (DuckDB runs one query per connection), in submission order.
 */
import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_PARAMETERS, type ParamValue } from '../snowflake-wire/parameters.ts';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** Current database/schema/warehouse/role of a session (Snowflake names). */
export interface SessionContext {
  database: string;
  schema: string;
  warehouse: string;
  role: string;
}

/** Runs async jobs one after another. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Run `job` after every job queued before it, whatever their outcome. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** One logged-in session. */
export interface Session {
  id: string;
  user: string;
  sessionToken: string;
  masterToken: string;
  sessionExpiresAt: number;
  masterExpiresAt: number;
  context: SessionContext;
  params: Record<string, ParamValue>;
  conn: DuckDBConnection;
  queue: SerialQueue;
  closed: boolean;
}

/** Token lifetimes, seconds. */
export interface TokenValidity {
  sessionSeconds: number;
  masterSeconds: number;
}

/** Issued tokens of a session or a renewal. */
export interface IssuedTokens {
  sessionToken: string;
  masterToken: string;
  sessionValiditySeconds: number;
  masterValiditySeconds: number;
}

function newToken(kind: 'ST' | 'MT'): string {
  return `EMU${kind}-${randomBytes(24).toString('base64url')}`;
}

/** Holds every live session, indexed by session and master token. */
export class SessionStore {
  private readonly bySession = new Map<string, Session>();
  private readonly byMaster = new Map<string, Session>();
  private readonly byId = new Map<string, Session>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  /** Session tokens issued by renewal so far. */
  renewals = 0;

  constructor(
    private readonly validity: TokenValidity,
    private readonly now: () => number,
  ) {}

  /** Register a new session around its DuckDB connection. */
  create(init: { user: string; context: SessionContext; params: Record<string, ParamValue>; conn: DuckDBConnection }): Session {
    const now = this.now();
    const session: Session = {
      id: String(this.nextId++),
      user: init.user,
      sessionToken: newToken('ST'),
      masterToken: newToken('MT'),
      sessionExpiresAt: now + this.validity.sessionSeconds * 1000,
      masterExpiresAt: now + this.validity.masterSeconds * 1000,
      context: init.context,
      params: { ...DEFAULT_PARAMETERS, ...init.params },
      conn: init.conn,
      queue: new SerialQueue(),
      closed: false,
    };
    this.bySession.set(session.sessionToken, session);
    this.byMaster.set(session.masterToken, session);
    this.byId.set(session.id, session);
    return session;
  }

  /** Tokens of a session, as the login and renewal responses carry them. */
  tokens(session: Session): IssuedTokens {
    return {
      sessionToken: session.sessionToken,
      masterToken: session.masterToken,
      sessionValiditySeconds: this.validity.sessionSeconds,
      masterValiditySeconds: this.validity.masterSeconds,
    };
  }

  /** The session a session token belongs to; 390104 when unknown, 390112 when expired (the driver then renews). */
  authenticate(sessionToken: string | undefined): Session {
    const session = sessionToken ? this.bySession.get(sessionToken) : undefined;
    if (!session || session.closed) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    if (session.sessionExpiresAt <= this.now()) throw SnowflakeWireError.of('SESSION_TOKEN_EXPIRED');
    return session;
  }

  /** Issue a new session token using the master token (`/session/token-request`). */
  renew(masterToken: string | undefined, oldSessionToken: string | undefined): Session {
    const session = masterToken ? this.byMaster.get(masterToken) : undefined;
    if (!session || session.closed) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    if (session.masterExpiresAt <= this.now()) throw SnowflakeWireError.of('MASTER_TOKEN_EXPIRED');
    if (oldSessionToken !== undefined && oldSessionToken !== session.sessionToken) {
      throw SnowflakeWireError.of('SESSION_TOKEN_INVALID', 'The old session token does not belong to this master token.');
    }
    this.bySession.delete(session.sessionToken);
    session.sessionToken = newToken('ST');
    session.sessionExpiresAt = this.now() + this.validity.sessionSeconds * 1000;
    this.bySession.set(session.sessionToken, session);
    this.renewals++;
    return session;
  }

  /** Forget a session; the caller closes its connection. */
  remove(session: Session): void {
    session.closed = true;
    this.bySession.delete(session.sessionToken);
    this.byMaster.delete(session.masterToken);
    this.byId.delete(session.id);
  }

  /** Every live session. */
  all(): Session[] {
    return [...this.byId.values()];
  }
}
