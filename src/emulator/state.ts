/**
 * The emulator's shared state: the DuckDB back end (engine, sessions, queries,
 * results) that the protocol handlers in `protocol/` work on, and its boot
 * (seed, init, catalog) and session teardown.
 */
import type { Logger } from 'pino';
import { Authenticator, type KeySlot } from './auth.ts';
import { Engine } from './engine.ts';
import type { EmulatorOptions } from './options.ts';
import { QueryService } from './query-service.ts';
import { ResultStore } from './result-store.ts';
import { SessionStore, type Session, type SessionContext } from './sessions.ts';
import { seedDemo } from './seed/demo.ts';
import { warmUp } from './sql/translate.ts';
import { snowflakeName } from '../snowflake-wire/body.ts';

/** Everything a route handler needs; one per running emulator. */
export interface EmulatorState {
  /** The one user this emulator knows, as configured. */
  user: string;
  now: () => number;
  log: Logger | undefined;
  /** How long a query request is held open before answering "in progress". */
  queryWaitMs: number;
  /** Context of a login that names none. */
  defaults: SessionContext;
  auth: Authenticator;
  engine: Engine;
  sessions: SessionStore;
  results: ResultStore;
  queries: QueryService;
}

/** Open DuckDB, seed it and build the stores; the engine is closed again if set-up fails. */
export async function openState(opts: EmulatorOptions): Promise<EmulatorState> {
  if (!opts.password && !opts.publicKeyPem) throw new Error('startEmulator: give the user a password and/or a publicKeyPem');
  const now = opts.now ?? Date.now;
  const log = opts.logger?.child({ component: 'emulator' });
  const chunkRows = Math.max(1, opts.resultChunkRows ?? 10_000);

  const auth = new Authenticator(
    { account: opts.account, user: opts.user, password: opts.password, publicKeyPem: opts.publicKeyPem, publicKeyPem2: opts.publicKeyPem2 },
    now,
  );
  const engine = await Engine.open({ dbFile: opts.dbFile });
  const sessions = new SessionStore(
    { sessionSeconds: opts.sessionTokenValiditySeconds ?? 3600, masterSeconds: opts.masterTokenValiditySeconds ?? 4 * 3600 },
    now,
  );
  const results = new ResultStore({ ttlMs: (opts.resultTtlSeconds ?? 3600) * 1000, maxBytes: opts.maxResultBytes ?? 512 * 1024 * 1024 }, now);
  const keys = { user: opts.user, setPublicKey: (slot: KeySlot, pem: string | undefined) => auth.setPublicKey(slot, pem) };
  const queries = new QueryService({ engine, results, chunkRows, now, recordTtlMs: (opts.resultTtlSeconds ?? 3600) * 1000, logger: log, keys });

  try {
    await prepareEngine(engine, opts);
  } catch (err) {
    await engine.close();
    throw err;
  }

  const defaults: SessionContext = {
    database: snowflakeName(opts.database) ?? (opts.seed === 'demo' ? 'ANALYTICS' : ''),
    schema: snowflakeName(opts.schema) ?? 'PUBLIC',
    warehouse: snowflakeName(opts.warehouse) ?? 'EMULATOR_WH',
    role: snowflakeName(opts.role) ?? 'PUBLIC',
  };
  return { user: opts.user, now, log, queryWaitMs: (opts.queryWaitSeconds ?? 45) * 1000, defaults, auth, engine, sessions, results, queries };
}

/** Warm the SQL layer, seed and run the caller's init, then read the catalog. */
async function prepareEngine(engine: Engine, opts: EmulatorOptions): Promise<void> {
  await warmUp();
  const helpers = { createDatabase: async (name: string): Promise<void> => void (await engine.createDatabase(name)) };
  if (opts.seed === 'demo' || opts.init) {
    const conn = await engine.connect();
    try {
      if (opts.seed === 'demo') await seedDemo(conn, { ...helpers, ...(opts.onProgress ? { progress: opts.onProgress } : {}) });
      if (opts.init) await opts.init(conn, helpers);
    } finally {
      conn.disconnectSync();
    }
  }
  await engine.refreshCatalog();
}

/** Forget a session, cancel its statements and close its DuckDB connection (logout, shutdown). */
export async function closeSession(state: EmulatorState, session: Session): Promise<void> {
  state.sessions.remove(session);
  await state.queries.cancelSession(session);
  await session.queue.run(async () => session.conn.disconnectSync());
}
