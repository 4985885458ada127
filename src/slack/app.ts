/**
 * The Slack app: Bolt with Airlock's fastify receiver (or Socket Mode when
 * `SLACK_APP_TOKEN` is set), and the listeners for the card's buttons, the deny
 * modal and `/airlock`. Listeners ack first and work after (STYLE habit 8),
 * except the deny modal, which must answer with its validation errors.
 */
import { App, LogLevel } from '@slack/bolt';
import { APPROVE_ACTION_ID, DENY_ACTION_ID, DENY_REASON_CALLBACK_ID } from './presenters.ts';
import { approveClicked, denyClicked } from './listeners/actions.ts';
import { airlockCommand } from './listeners/command.ts';
import type { ListenerDeps } from './listeners/deps.ts';
import { denyReasonSubmitted } from './listeners/views.ts';
import type { FastifySlackReceiver } from './receiver.ts';
import { AirlockSocketModeReceiver } from './socket-mode.ts';

type BoltApp = App;

/** The Slack app's transport (tokens, API URL, HTTP receiver) and the services its listeners call. */
export interface SlackAppDeps extends ListenerDeps {
  botToken: string;
  /** Socket Mode instead of HTTP when set. */
  appToken?: string;
  apiUrl?: string;
  receiver?: FastifySlackReceiver;
}

/** Web API options shared by Bolt's client and the outbox's: Airlock's queue does the retrying. */
export const webClientOptions = (apiUrl: string | undefined) => ({
  ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  retryConfig: { retries: 0 },
  rejectRateLimitedCalls: true,
  timeout: 10_000,
});

/** The Bolt app with Airlock's listeners: the card's buttons, the deny modal and `/airlock`. */
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
    receiver: deps.appToken ? new AirlockSocketModeReceiver({ appToken: deps.appToken, clientOptions: webClientOptions(deps.apiUrl), logger }) : deps.receiver!,
  });

  app.error(async (err) => {
    logger.error({ component: 'slack', err: err.message }, 'slack listener error');
  });

  app.action(APPROVE_ACTION_ID, approveClicked(deps));
  app.action(DENY_ACTION_ID, denyClicked(deps));
  app.view(DENY_REASON_CALLBACK_ID, denyReasonSubmitted(deps));
  app.command('/airlock', airlockCommand(deps));

  return app;
}
