/** What the allowed-read benches (run.ts, load.ts, profile.ts, wire.ts) share: the statement, one broker read, quantiles, clean-up and running alone. */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import type snowflake from 'snowflake-sdk';
import { deletePrefix } from './cleanup.ts';

/** Non-sensitive columns only: the default policy allows this read at once (names would go to review). */
export const ALLOWED_READ = 'select customer_id, segment, city from customers where customer_id <= 3 order by customer_id';

/** One allowed 3-row read through the broker, answered within the same request; throws on anything else. */
export async function brokerRead(apiUrl: string, token: string, sql: string = ALLOWED_READ): Promise<{ id: string }> {
  const res = await fetch(`${apiUrl}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql, waitMs: 20_000 }),
  });
  const body = (await res.json()) as { id: string; status: string; result?: { rows: unknown[] } };
  if (res.status !== 200 || body.status !== 'succeeded' || body.result?.rows.length !== 3) {
    throw new Error(`broker answered ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  return body;
}

/** One timed 3-row read on a driver connection (the direct path, or a driver pointed at Airlock); throws on anything else. */
export function timedDriverRead(conn: snowflake.Connection, sql: string = ALLOWED_READ): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    conn.execute({
      sqlText: sql,
      complete: (err, _stmt, rows) => {
        if (err) return reject(err);
        if (rows?.length !== 3) return reject(new Error(`expected 3 rows, got ${rows?.length}`));
        resolve(performance.now() - t0);
      },
    });
  });
}

/** How long `read` takes, in ms. */
export async function timedMs(read: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await read();
  return performance.now() - t0;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function quantiles(samples: number[]): { n: number; p50: number; p90: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
}

/** Delete a bench's throw-away prefix. */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  await deletePrefix(redis, prefix);
  redis.disconnect();
}

/** Run `bench` when its file is the entry point (`npx tsx bench/<name>.ts`), printing its report. */
export function runAlone(moduleUrl: string, bench: (o: { log: (line: string) => void }) => Promise<{ report: string[] }>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  bench({ log: (line) => process.stderr.write(`${line}\n`) }).then(
    (r) => {
      process.stdout.write(`${r.report.join('\n')}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
