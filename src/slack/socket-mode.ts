/**
 * Socket Mode for the Slack app (when `SLACK_APP_TOKEN` is set): Bolt's
 * receiver, supervised so that a Slack that cannot be reached is retried,
 * logged and never fatal.
 */
import { LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from '../log.ts';

/** Bolt's logger interface onto Airlock's: connection trouble as warnings, chatter as debug, payload dumps dropped. */
function boltLoggerOf(logger: Logger): BoltLogger {
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => logger.debug({ component: 'slack', from: 'socket-mode' }, text(msg)),
    warn: (...msg: unknown[]) => logger.warn({ component: 'slack', from: 'socket-mode' }, text(msg)),
    error: (...msg: unknown[]) => logger.warn({ component: 'slack', from: 'socket-mode' }, text(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

const SOCKET_ACK_TIMEOUT_MS = 2_500;
const SOCKET_RETRY_MAX_MS = 30_000;
const SOCKET_STOP_WAIT_MS = 2_000;

/**
 * Bolt's Socket Mode receiver, supervised by Airlock.
 *
 * - The Web API options (`slackApiUrl` from SLACK_API_URL, no retries) are given
 *   explicitly as `installerOptions.clientOptions`, which is where the receiver's
 *   SocketModeClient reads them for `apps.connections.open`.
 * - Reconnecting is Airlock's, not the client's: the client's own reconnect gives
 *   up for good on a network or HTTP error from `apps.connections.open`, and
 *   leaves an unhandled rejection when a reconnect after a dropped connection
 *   fails. Here every failure is logged and retried with backoff (1 s doubling
 *   to 30 s) until `stop()`; a dropped connection is reopened after 250 ms.
 * - Like the HTTP receiver, an envelope is acknowledged after 2.5 s even if the
 *   listener has not answered yet (Slack wants the ack within 3 s).
 * - `stop()` closes the socket, waits at most 2 s for the close handshake and
 *   then drops the connection; it never waits on Slack.
 */
export class AirlockSocketModeReceiver extends SocketModeReceiver {
  private readonly log: Logger;
  private stopped = false;
  private connected = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<unknown> = Promise.resolve();

  constructor(options: { appToken: string; clientOptions: WebClientOptions; logger: Logger }) {
    super({
      appToken: options.appToken,
      logger: boltLoggerOf(options.logger),
      autoReconnectEnabled: false,
      installerOptions: { clientOptions: options.clientOptions },
    });
    this.log = options.logger;
    this.client.on('connected', () => {
      this.connected = true;
    });
    this.client.on('disconnected', () => {
      const wasConnected = this.connected;
      this.connected = false;
      if (wasConnected && !this.stopped) {
        this.log.warn({ component: 'slack' }, 'socket mode connection closed; reconnecting');
        this.retryIn(250);
      }
    });
    // Ack after 2.5 s whatever the listener does: wrap the ack the receiver's own handler gets.
    const [handle] = this.client.listeners('slack_event');
    if (handle) {
      this.client.removeAllListeners('slack_event');
      this.client.on('slack_event', (args: { ack: (response?: Record<string, unknown>) => Promise<void>; type?: string }) => {
        let acked = false;
        const ack = async (response?: Record<string, unknown>) => {
          if (acked) return;
          acked = true;
          clearTimeout(timer);
          await args.ack(response);
        };
        const timer = setTimeout(() => {
          this.log.warn({ component: 'slack', type: args.type }, 'socket mode listener did not answer in 2.5 s; acknowledged empty');
          ack().catch(() => undefined);
        }, SOCKET_ACK_TIMEOUT_MS);
        timer.unref();
        return (handle as (a: unknown) => unknown)({ ...args, ack });
      });
    }
  }

  /** Resolves when connected; rejects if the first attempt fails (retries go on in the background). */
  override start(): ReturnType<SocketModeReceiver['start']> {
    this.stopped = false;
    return this.connect();
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const disconnected = this.client.disconnect().then(() => true);
    const wait = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());
    if (!(await Promise.race([disconnected, wait(SOCKET_STOP_WAIT_MS)]))) {
      // The peer never finished the close handshake: drop the connection (the client would wait 30 s).
      (this.client as unknown as { websocket?: { cleanup?: () => void } }).websocket?.cleanup?.();
    }
    // An attempt in flight (apps.connections.open) disconnects itself when it lands; do not wait on Slack.
    await Promise.race([this.attempt, wait(100)]);
  }

  private connect(): ReturnType<SocketModeReceiver['start']> {
    const attempt = super.start().then(
      (response) => {
        this.failures = 0;
        if (this.stopped) this.client.disconnect().catch(() => undefined);
        else this.log.info({ component: 'slack' }, 'socket mode connected');
        return response;
      },
      (err: unknown) => {
        if (!this.stopped) {
          this.failures += 1;
          const delay = Math.min(SOCKET_RETRY_MAX_MS, 1_000 * 2 ** (this.failures - 1));
          this.log.warn(
            { component: 'slack', err: err instanceof Error ? err.message : String(err ?? 'connection closed'), retryInMs: delay },
            'socket mode could not connect to Slack; retrying',
          );
          this.retryIn(delay);
        }
        throw err instanceof Error ? err : new Error(`socket mode connection closed (${String(err ?? 'no reason')})`);
      },
    );
    this.attempt = attempt.catch(() => undefined);
    return attempt;
  }

  private retryIn(ms: number): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connect().catch(() => undefined);
    }, ms);
  }
}
