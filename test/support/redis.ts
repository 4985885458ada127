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
  return [...(await dumpPrefixByKey(prefix)).values()].join('\n');
}

/**
 * The same dump, one text per key; a stream gives one text per entry (its
 * fields), keyed `<key>/<entry id>`, so a test can tell whose record holds what.
 */
export async function dumpPrefixByKey(prefix: string): Promise<Map<string, string>> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'string') out.set(k, (await redis.getBuffer(k))?.toString('utf8') ?? '');
        else if (type === 'hash') out.set(k, JSON.stringify(await redis.hgetall(k)));
        else if (type === 'list') out.set(k, JSON.stringify(await redis.lrange(k, 0, -1)));
        else if (type === 'zset') out.set(k, JSON.stringify(await redis.zrange(k, '0', '-1')));
        else if (type === 'set') out.set(k, JSON.stringify(await redis.smembers(k)));
        else if (type === 'stream') for (const [id, fields] of await redis.xrange(k, '-', '+')) out.set(`${k}/${id}`, JSON.stringify(fields));
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Connections a test file opens, all dropped together in its `afterAll`. */
export function redisConnections(): { connect(): Redis; disconnectAll(): void } {
  const opened: Redis[] = [];
  return {
    connect() {
      const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      opened.push(c);
      return c;
    },
    disconnectAll() {
      for (const c of opened) c.disconnect();
    },
  };
}
