/** Real-Redis helpers for integration tests: a unique prefix per test file, cleaned up after. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key prefix such as `test-3f2c…`; every key a test writes starts with it. */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomUUID().slice(0, 12)}`;
}

/** Delete every key under a prefix (SCAN, never KEYS). */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every value stored under a prefix as text (strings, hashes, lists, sets, sorted sets, streams), to search for leaks. */
export async function dumpPrefix(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'string') parts.push((await redis.getBuffer(k))?.toString('utf8') ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(k)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(k, 0, -1)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(k, '0', '-1')));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(k)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(k, '-', '+')));
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}
