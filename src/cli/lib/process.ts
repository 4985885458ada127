/**
 * The CLI process: human lines on stderr (stdout is for machine-readable
 * output, DESIGN §3), the logger, and shutdown on SIGINT/SIGTERM.
 */
import type { Config } from '../../config/env.ts';
import { createLogger, type Logger } from '../../log.ts';

/** Writes one line to stderr. */
export function stderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The JSON logger at the configured level (info without a config). */
export function logger(config?: Config): Logger {
  return createLogger({ level: config?.AIRLOCK_LOG_LEVEL ?? 'info' });
}

/** Wait for SIGINT/SIGTERM, then run `close` once. */
export function onShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = () => {
      if (closing) {
        stderr('forced exit');
        process.exit(130);
      }
      closing = true;
      stderr('shutting down… (again to force)');
      // Never hang on a stuck dependency: give up after 15 s.
      setTimeout(() => {
        stderr('shutdown took longer than 15 s; exiting anyway');
        process.exit(1);
      }, 15_000).unref();
      close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
