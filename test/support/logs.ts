/**
 * Airlock's logs kept in memory, so a suite can look in them for what must
 * never be logged (PII, tokens) or for a line it expects.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

/** A logger at `level` and everything it wrote. */
export interface CapturedLogs {
  logger: Logger;
  /** All output so far, as written. */
  text(): string;
  /** All output so far, one parsed JSON object per line. */
  lines(): Array<Record<string, unknown>>;
}

export function captureLogs(level: 'debug' | 'info' | 'warn'): CapturedLogs {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    logger: createLogger({ level, destination }),
    text,
    lines: () => text().split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
