/**
 * A local fake of Slack's Socket Mode server for tests.
 *
 * Slack's side of Socket Mode, as `@slack/socket-mode` expects it: the app
 * calls `apps.connections.open` (served by the fake Web API, see
 * `fake-slack.ts#setSocketModeUrl`) and opens a WebSocket to the URL it gets;
 * on connect the server says `{"type":"hello", …}`; requests arrive as
 * envelopes `{envelope_id, type, payload, accepts_response_payload}` and the app
 * acknowledges each with `{envelope_id, payload?}` (Slack wants that within
 * 3 s). Tests send envelopes with {@link FakeSocketMode.send} and read the acks
 * back from {@link FakeSocketMode.acks} or {@link FakeSocketMode.waitForAck}.
 *
 * Built on `ws` (the server half; the app's client is undici's WebSocket).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** Envelope types Slack sends over Socket Mode. */
export type EnvelopeType = 'interactive' | 'slash_commands' | 'events_api';

/** An envelope as sent to the app. */
export interface Envelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: unknown;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** An acknowledgement the app sent back. */
export interface Ack {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Date.now() when it arrived. */
  at: number;
  /** Milliseconds since the envelope was sent (when it was sent by this fake). */
  afterMs?: number;
}

/** Options of {@link startFakeSocketMode}. */
export interface FakeSocketModeOptions {
  port?: number;
  /** `connection_info.app_id` of the hello message (the rest of hello is made up). */
  appId?: string;
}

/** A running fake Socket Mode server. */
export interface FakeSocketMode {
  /** `ws://127.0.0.1:PORT/link/?ticket=…`: what `apps.connections.open` should return. */
  url: string;
  /** Envelopes sent, in order. */
  sent: Envelope[];
  /** Acks received, in order. */
  acks: Ack[];
  /** Messages the app sent that were not acks (or not JSON). */
  other: string[];
  /** Connections opened so far (a reconnect counts again). */
  connectionCount(): number;
  /** Connections open now. */
  openConnections(): number;
  /** Resolves when at least `n` (default 1) connections are open and have been sent hello. */
  waitForConnection(n?: number, timeoutMs?: number): Promise<void>;
  /**
   * Sends an envelope to the newest open connection (as Slack, which uses one of
   * the app's connections). Returns its envelope id.
   */
  send(envelope: { type: EnvelopeType; payload: unknown; accepts_response_payload?: boolean; envelope_id?: string }): string;
  /** Resolves with the ack (past or future) of an envelope. */
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<Ack>;
  /** Asks the app to reconnect, as Slack does when it recycles a server (`{"type":"disconnect"}`). */
  disconnectAll(reason?: string): void;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 (a free port unless `opts.port`). */
export async function startFakeSocketMode(opts: FakeSocketModeOptions = {}): Promise<FakeSocketMode> {
  const appId = opts.appId ?? 'A0AIRLOCK';
  const wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;

  const sent: Envelope[] = [];
  const sentAt = new Map<string, number>();
  const acks: Ack[] = [];
  const other: string[] = [];
  const open: WebSocket[] = [];
  let connections = 0;
  const ackWaiters = new Set<{ id: string; resolve: (a: Ack) => void }>();
  const connectionWaiters = new Set<{ n: number; resolve: () => void }>();

  const wakeConnections = () => {
    for (const w of connectionWaiters) {
      if (open.length >= w.n) {
        connectionWaiters.delete(w);
        w.resolve();
      }
    }
  };

  wss.on('connection', (socket) => {
    connections += 1;
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        other.push(text);
        return;
      }
      const m = message as { envelope_id?: unknown; payload?: unknown };
      if (typeof m.envelope_id !== 'string') {
        other.push(text);
        return;
      }
      const at = Date.now();
      const since = sentAt.get(m.envelope_id);
      const ack: Ack = {
        envelope_id: m.envelope_id,
        at,
        ...(typeof m.payload === 'object' && m.payload !== null && Object.keys(m.payload).length > 0 ? { payload: m.payload as Record<string, unknown> } : {}),
        ...(since !== undefined ? { afterMs: at - since } : {}),
      };
      acks.push(ack);
      for (const w of ackWaiters) {
        if (w.id === ack.envelope_id) {
          ackWaiters.delete(w);
          w.resolve(ack);
        }
      }
    });
    socket.on('close', () => {
      const i = open.indexOf(socket);
      if (i >= 0) open.splice(i, 1);
    });
    socket.on('error', () => {
      // A client that vanishes mid-frame; its close follows.
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open.length + 1,
        debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    open.push(socket);
    wakeConnections();
  });

  const close = async (): Promise<void> => {
    for (const s of wss.clients) s.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };

  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=${appId}`,
    sent,
    acks,
    other,
    connectionCount: () => connections,
    openConnections: () => open.length,
    waitForConnection(n = 1, timeoutMs = 10_000) {
      if (open.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          connectionWaiters.delete(waiter);
          reject(new Error(`no Socket Mode connection within ${timeoutMs} ms (${open.length} open, ${connections} so far)`));
        }, timeoutMs);
        connectionWaiters.add(waiter);
      });
    },
    send(e) {
      const socket = open.at(-1);
      if (!socket) throw new Error('no Socket Mode connection is open');
      const envelope: Envelope = {
        envelope_id: e.envelope_id ?? randomUUID(),
        type: e.type,
        payload: e.payload,
        accepts_response_payload: e.accepts_response_payload ?? e.type !== 'events_api',
      };
      sent.push(envelope);
      sentAt.set(envelope.envelope_id, Date.now());
      socket.send(JSON.stringify(envelope));
      return envelope.envelope_id;
    },
    waitForAck(envelopeId, timeoutMs = 3_000) {
      const done = acks.find((a) => a.envelope_id === envelopeId);
      if (done) return Promise.resolve(done);
      return new Promise<Ack>((resolve, reject) => {
        const waiter = {
          id: envelopeId,
          resolve: (a: Ack) => {
            clearTimeout(timer);
            resolve(a);
          },
        };
        const timer = setTimeout(() => {
          ackWaiters.delete(waiter);
          reject(new Error(`no ack for envelope ${envelopeId} within ${timeoutMs} ms`));
        }, timeoutMs);
        ackWaiters.add(waiter);
      });
    },
    disconnectAll(reason = 'refresh_requested') {
      for (const s of open) s.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
    },
    close,
  };
}
