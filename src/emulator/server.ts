/**
 * Snowflake-wire emulator: an HTTP server the unmodified snowflake-sdk driver
 * connects to with `accessUrl`, backed by DuckDB.
 *
 * This file composes the emulator: the DuckDB back end and its stores
 * (`state.ts`), its answers to the wire protocol (`protocol/backend.ts`), and
 * the protocol itself (`../snowflake-wire/`, shared with the Airlock gateway),
 * the listener and its shutdown. Every answer to a client is HTTP 200 with
 * `success:true|false` (a 5xx sends the driver into minutes of retries),
 * except unknown routes (JSON 404) and chunk downloads with a bad key (403).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorOptions } from './options.ts';
import { wireRequestListener } from '../snowflake-wire/node-handler.ts';
import { emulatorBackend } from './protocol/backend.ts';
import { closeSession, openState } from './state.ts';
import type { Authenticator } from './auth.ts';

export type { EmulatorOptions } from './options.ts';

/** Counters for tests and diagnostics. */
export interface EmulatorStats {
  sessions: number;
  /** Session tokens renewed with a master token. */
  tokenRenewals: number;
  storedResultBytes: number;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL for the driver's `accessUrl`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  stats(): EmulatorStats;
  /** The user's two key slots (`ALTER USER … SET/UNSET RSA_PUBLIC_KEY[_2]`) and which key each login used. */
  keys: Pick<Authenticator, 'setPublicKey' | 'loginsWith'>;
  close(): Promise<void>;
}

/** Start the emulator; resolves once it listens. */
export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const state = await openState(opts);
  const { sessions, results, engine, log } = state;
  const host = opts.host ?? '127.0.0.1';
  let port = 0;
  const server: Server = createServer(wireRequestListener(emulatorBackend(state), () => `${host}:${port}`, log));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}`;
  log?.info({ url }, 'emulator listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats: () => ({ sessions: sessions.all().length, tokenRenewals: sessions.renewals, storedResultBytes: results.storedBytes }),
    keys: state.auth,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all(sessions.all().map((s) => closeSession(state, s)));
        await closed;
        await engine.close();
        log?.info('emulator stopped');
      })()),
  };
}
