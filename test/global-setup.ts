/**
 * Runs once before the suite: integration tests need a real Redis and must fail
 * loudly, never skip, when it is missing.
 */
import { createConnection } from 'node:net';

export default async function setup(): Promise<void> {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const ok = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.once('data', (buf) => {
      socket.destroy();
      resolve(buf.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (!ok) {
    throw new Error(
      `Redis does not answer PING at ${url.host}. The integration tests need a real Redis: ` +
        'start one (redis-server --daemonize yes) or run bash .ci/run, which starts it.',
    );
  }
}
