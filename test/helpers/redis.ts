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
