/**
 * The Slack app: Bolt with Airlock's fastify receiver (or Socket Mode when
 * `SLACK_APP_TOKEN` is set), and the listeners for the card's buttons, the deny
 * modal and `/airlock`. Listeners ack first and work after (STYLE habit 8),
 * except the deny modal, which must answer with its validation errors.
 */
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';

type BoltApp = App;
import type { ApprovalService, VoteOrigin } from '../approvals/service.ts';
import type { AuditSearch, SessionSummary } from '../audit/search.ts';
import { approvalOf } from '../approvals/store.ts';
import { isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CardNotifier } from '../queue/slack-queue.ts';
import type { QueryStore } from '../queries/store.ts';
import {
  APPROVE_ACTION_ID,
  DENY_ACTION_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_REASON_CALLBACK_ID,
  denyReasonModal,
  escapeMrkdwn,
  pendingList,
  sessionList,
  showQuery,
  usage,
} from './presenters.ts';
import type { QueryAccess } from './access.ts';
import { recordForDisplay } from './display.ts';
import type { FastifySlackReceiver } from './receiver.ts';

export interface SlackAppDeps {
  botToken: string;
  /** Socket Mode instead of HTTP when set. */
  appToken?: string;
  apiUrl?: string;
  receiver?: FastifySlackReceiver;
  approvals: ApprovalService;
  queries: QueryStore;
  cards: CardNotifier;
  logger: Logger;
  /**
   * The user's email (users.info), for the owner check and the audit trail.
   * Absent, failing or answering undefined: every vote is refused (Airlock
   * cannot prove the voter is not the agent's owner).
   */
  emailOf?: (slackUserId: string) => Promise<string | undefined>;
  /** Who may use `/airlock pending`, `show` and `search`; absent: nobody (fail closed). */
  access?: QueryAccess;
  /** The session log's index, for `/airlock search`. */
  sessions: AuditSearch;
}

/** Web API options shared by Bolt's client and the outbox's: Airlock's queue does the retrying. */
export const webClientOptions = (apiUrl: string | undefined) => ({
  ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  retryConfig: { retries: 0 },
  rejectRateLimitedCalls: true,
  timeout: 10_000,
});

const voterOf = async (deps: SlackAppDeps, user: { id: string; name?: string; username?: string }) => {
  const email = await deps.emailOf?.(user.id).catch((err: Error) => {
    deps.logger.warn({ component: 'slack', user: user.id, err: err.message }, 'users.info failed: the vote will be refused');
    return undefined;
  });
  const name = user.username ?? user.name;
  return { slackUserId: user.id, ...(name ? { name } : {}), ...(email ? { email } : {}) };
};

/** One value several fields of a payload must agree on; a conflict is itself a value that matches no card. */
function agreed(...values: Array<string | undefined>): string | undefined {
  const present = [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
  if (present.length > 1) return `(conflicting: ${present.join(' / ')})`;
  return present[0];
}

/** Where a button click says it came from: channel and message ts, each from every field that carries it. */
function buttonOrigin(body: unknown): VoteOrigin & { via: 'button' } {
  const b = body as { channel?: { id?: string }; container?: { channel_id?: string; message_ts?: string }; message?: { ts?: string } };
  const channel = agreed(b.channel?.id, b.container?.channel_id);
  const messageTs = agreed(b.container?.message_ts, b.message?.ts);
  return { via: 'button', ...(channel ? { channel } : {}), ...(messageTs ? { messageTs } : {}) };
}

const REFUSED_READER =
  'Only approvers and reviewers can list or show Airlock queries (they carry SQL and owner details). ' +
  'Ask an Airlock admin to add you to an approver group in the policy or to AIRLOCK_SLACK_REVIEWERS.';

export function createSlackApp(deps: SlackAppDeps): BoltApp {
  const { logger } = deps;
  const app = new App({
    // `authorize` instead of `token`: no auth.test at start-up, so a slow or absent Slack never crashes it (DESIGN §4).
    authorize: async () => ({ botToken: deps.botToken }),
    ignoreSelf: false,
    clientOptions: webClientOptions(deps.apiUrl),
    logLevel: LogLevel.ERROR,
    // Socket Mode: our own receiver, so apps.connections.open goes to SLACK_API_URL explicitly and a
    // Slack that cannot be reached is retried, logged and never fatal (see AirlockSocketModeReceiver).
    receiver: deps.appToken ? new AirlockSocketModeReceiver({ appToken: deps.appToken, apiUrl: deps.apiUrl, logger }) : deps.receiver!,
  });

  app.error(async (err) => {
    logger.error({ component: 'slack', err: err.message }, 'slack listener error');
  });

  const ephemeral = async (client: BoltApp['client'], channel: string | undefined, user: string, text: string) => {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text }).catch((err: Error) => logger.warn({ component: 'slack', err: err.message }, 'ephemeral failed'));
  };

  app.action(APPROVE_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    const channel = 'channel' in body ? body.channel?.id : undefined;
    if (!id) return;
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'approve', { origin: buttonOrigin(body) });
      if (reply.outcome === 'recorded' || reply.outcome === 'approved' || reply.outcome === 'expired') {
        await deps.cards.changed(id, reply.outcome === 'expired' ? 'expired' : `vote-${reply.record.approval?.votes.length ?? 0}`);
      }
      if (reply.outcome !== 'recorded' && reply.outcome !== 'approved') await ephemeral(client, channel, body.user.id, reply.message);
    } catch (err) {
      await ephemeral(client, channel, body.user.id, isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.');
    }
  });

  app.action(DENY_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    if (!id || !('trigger_id' in body)) return;
    const origin = buttonOrigin(body);
    // trigger_id lives about 3 s: only the card check (one Redis read) comes before the modal; eligibility is checked on submit.
    try {
      const refused = await deps.approvals.denyClicked(id, { slackUserId: body.user.id }, origin);
      if (refused) {
        await ephemeral(client, origin.channel, body.user.id, refused.message);
        return;
      }
    } catch (err) {
      await ephemeral(client, origin.channel, body.user.id, isAirlockError(err) ? err.message : 'Airlock could not open the deny form; try again.');
      return;
    }
    const opened = await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(id) as never }).catch((err: Error) => {
      logger.warn({ component: 'slack', queryId: id, err: err.message }, 'could not open the deny modal');
      return undefined;
    });
    const viewId = opened?.view?.id;
    if (viewId) {
      await deps.approvals.modalOpened(id, viewId, body.user.id).catch((err: Error) => {
        logger.warn({ component: 'slack', queryId: id, err: err.message }, 'could not bind the deny modal to its card; its submission will be refused');
      });
    }
  });

  app.view(DENY_REASON_CALLBACK_ID, async ({ ack, body, view }) => {
    const id = view.private_metadata;
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: 'Say why, so the agent can fix its query.' } });
      return;
    }
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'deny', { reason, origin: { via: 'modal', viewId: body.view.id } });
      if (reply.outcome === 'rejected' || reply.outcome === 'expired') {
        await ack();
        await deps.cards.changed(id, reply.outcome);
        return;
      }
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: reply.message } });
    } catch (err) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.' } });
    }
  });

  app.command('/airlock', async ({ ack, command, client }) => {
    const [sub, arg] = command.text.trim().split(/\s+/);
    try {
      if (sub === 'pending' || sub === 'show' || sub === 'search') {
        const reader = await readerOf(deps, command.user_id, sub);
        if (reader !== 'ok') {
          await ack({ response_type: 'ephemeral', text: reader });
          return;
        }
      }
      if (sub === 'pending') {
        const records = await deps.queries.pending(20);
        const items = await Promise.all(
          records.map(async (record) => {
            const card = record.approval?.card;
            const link = card ? await client.chat.getPermalink({ channel: card.channel, message_ts: card.ts }).catch(() => undefined) : undefined;
            return { record: recordForDisplay(record), approval: approvalOf(record), ...(link?.permalink ? { permalink: link.permalink } : {}) };
          }),
        );
        await ack({ response_type: 'ephemeral', ...pendingList(items) } as never);
      } else if (sub === 'search' && arg) {
        await ack({ response_type: 'ephemeral', ...sessionList(`Sessions from agent ${escapeMrkdwn(arg)} or touching ${escapeMrkdwn(arg.toUpperCase())}`, await searchSessions(deps.sessions, arg)) } as never);
      } else if (sub === 'show' && arg) {
        const record = await deps.queries.get(arg);
        if (!record) await ack({ response_type: 'ephemeral', text: `No query with id ${arg}.` });
        else await ack({ response_type: 'ephemeral', ...showQuery(recordForDisplay(record), record.approval ? approvalOf(record) : undefined) } as never);
      } else {
        await ack({ response_type: 'ephemeral', ...usage() } as never);
      }
    } catch (err) {
      logger.warn({ component: 'slack', err: err instanceof Error ? err.message : String(err) }, '/airlock failed');
      await ack({ response_type: 'ephemeral', text: 'Airlock could not answer just now; try again.' });
    }
  });

  return app;
}

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
class AirlockSocketModeReceiver extends SocketModeReceiver {
  private readonly log: Logger;
  private stopped = false;
  private connected = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<unknown> = Promise.resolve();

  constructor(options: { appToken: string; apiUrl: string | undefined; logger: Logger }) {
    super({
      appToken: options.appToken,
      logger: boltLoggerOf(options.logger),
      autoReconnectEnabled: false,
      installerOptions: { clientOptions: webClientOptions(options.apiUrl) },
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

/** 'ok' when the user may read queries; otherwise the refusal to answer with. Logged either way. */
async function readerOf(deps: SlackAppDeps, userId: string, sub: string): Promise<string> {
  if (!deps.access) return REFUSED_READER;
  try {
    const reader = await deps.access.readerOf(userId);
    if (reader) return 'ok';
    deps.logger.warn({ component: 'slack', user: userId, command: sub }, '/airlock refused: not an approver or reviewer');
    return REFUSED_READER;
  } catch (err) {
    deps.logger.warn({ component: 'slack', user: userId, err: err instanceof Error ? err.message : String(err) }, '/airlock: membership lookup failed; refused');
    return 'Airlock could not check with Slack whether you are an approver or reviewer just now, so it shows nothing. Try again in a moment.';
  }
}

/** Sessions of an agent or touching a table or column, newest first, at most 20. */
async function searchSessions(search: AuditSearch, term: string): Promise<SessionSummary[]> {
  const byTable = search.search({ table: term, limit: 20 }).catch((err: unknown) => {
    if (isAirlockError(err, 'BAD_REQUEST')) return { sessions: [] as SessionSummary[] };
    throw err;
  });
  const [agent, table] = await Promise.all([search.search({ agent: term, limit: 20 }), byTable]);
  const seen = new Map<string, SessionSummary>();
  for (const s of [...agent.sessions, ...table.sessions]) seen.set(s.id, s);
  return [...seen.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, 20);
}
