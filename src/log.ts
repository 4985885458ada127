/**
 * pino logger factory with redaction of tokens, keys and passwords.
 *
 * Logs go to stderr so that stdout stays machine-readable for the CLI.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear (two levels deep covers our log shapes). */
export const REDACT_PATHS = [
  'password',
  'passphrase',
  'privateKey',
  'private_key',
  'token',
  'accessToken',
  'masterToken',
  'authorization',
  'secret',
  'signingSecret',
  'apiKey',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.private_key',
  '*.token',
  '*.accessToken',
  '*.masterToken',
  '*.authorization',
  '*.secret',
  '*.signingSecret',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  '*.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  '*.SLACK_APP_TOKEN',
  '*.AIRLOCK_MASKING_KEY',
  'hashKey',
  '*.hashKey',
];

/** Build a logger; `destination` lets tests capture output and grep it for secrets. */
export function createLogger(
  options: { level?: LevelWithSilent; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  return pino(
    {
      name: options.name ?? 'airlock',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
