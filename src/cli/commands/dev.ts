/** `airlock dev`: the whole stack in one process, with a demo token and a first curl to try. */
import { loadConfig, type Config } from '../../config/env.ts';
import { createLogger, type Logger } from '../../log.ts';
import { logger, onShutdown, stderr } from '../lib/process.ts';

/** Human-readable logs for `airlock dev` when pino-pretty (a dev dependency) is installed. */
async function devLogger(config: Config): Promise<Logger> {
  try {
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({ destination: 2, colorize: process.stderr.isTTY, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss' });
    return createLogger({ level: config.AIRLOCK_LOG_LEVEL, destination: stream });
  } catch {
    return logger(config);
  }
}

/** `airlock dev`: everything in one process on embedded defaults, until Ctrl-C. */
export async function dev(): Promise<number> {
  const config = loadConfig(process.env);
  const log = await devLogger(config);
  // A dev already running in this folder: say so before loading anything heavy (startDev's lock decides).
  const { refuseIfDevRuns } = await import('../../app/dev-lock.ts');
  await refuseIfDevRuns('.airlock');
  const { startDev } = await import('../../app/dev.ts');
  stderr('Starting Airlock dev environment…');
  const env = await startDev({ config, logger: log, progress: (l) => stderr(`  ${l}`) });
  const token = await env.mintToken({ agent: 'demo-agent', owner: 'dev@example.com', groups: ['analysts'] });
  stderr(`
Airlock is ready at ${env.apiUrl}

Try a query (the token is for agent "demo-agent", owner dev@example.com):

  curl -s ${env.apiUrl}/v1/queries \\
    -H "Authorization: Bearer ${token}" \\
    -H 'Content-Type: application/json' \\
    -d '{"sql":"select customer_id, segment, city from customers limit 3","waitMs":5000}'

${
    env.sandbox
      ? `Slack sandbox: approval cards appear at ${env.sandbox.url}; pick who you are on the left to approve, deny
or be refused. In a second terminal, npm run demo sends queries that fill it (docs/sandbox.md).`
      : config.SLACK_BOT_TOKEN && config.SLACK_SIGNING_SECRET && config.SLACK_APPROVAL_CHANNEL
      ? `Slack approvals: cards go to ${config.SLACK_APPROVAL_CHANNEL}; Slack sends clicks to ${env.apiUrl}/slack/events.`
      : `Slack approvals are OFF: queries the policy sends to review wait in pending_approval until they expire or are
cancelled. Approval cards need SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APPROVAL_CHANNEL (README, "Slack").`
  }

More tokens: npm run --silent airlock -- token --agent NAME --owner EMAIL
Stop with Ctrl-C.`);
  await onShutdown(() => env.close());
  return 0;
}
