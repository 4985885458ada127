/**
 * Queue errors during a Redis outage are one structured line per object and
 * window (src/queue/error-log.ts), not BullMQ's stack traces on stderr. A real
 * BullMQ queue on a connection to a port nobody listens on: it emits an error
 * on every reconnect attempt.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logQueueErrors } from '../../src/queue/error-log.ts';
import { SlackQueue } from '../../src/queue/slack-queue.ts';
import { captureLogs } from '../support/logs.ts';
import { freePort } from '../support/processes.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('queue errors in a Redis outage', () => {
  it('a queue whose Redis is gone logs one JSON line for the window and prints nothing else', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const logs = captureLogs('warn');
    const connection = new Redis({ port: await freePort(), host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => 50 });
    const queue = new SlackQueue(connection, 'error-log-test').logErrors(logs.logger);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await queue.close().catch(() => undefined);
    connection.disconnect();
    expect(logs.lines()).toHaveLength(1);
    expect(logs.lines()[0]).toMatchObject({ component: 'queue', queue: 'slack', msg: 'queue error' });
    expect(String(logs.lines()[0]!.err)).toMatch(/ECONNREFUSED/);
    expect(printed).not.toHaveBeenCalled();
  });

  it('after the window the next error is logged with how many were folded into the last one', async () => {
    const logs = captureLogs('warn');
    const source = new EventEmitter();
    logQueueErrors(source, logs.logger, { component: 'worker', queue: 'execute' }, 50);
    for (let i = 0; i < 4; i++) source.emit('error', new Error(`down ${i}`));
    await new Promise((resolve) => setTimeout(resolve, 80));
    source.emit('error', new Error('down again'));
    expect(logs.lines().map((l) => [l.err, l.repeated])).toEqual([
      ['down 0', undefined],
      ['down again', 3],
    ]);
  });
});
