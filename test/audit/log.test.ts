/**
 * The Redis audit log against real Redis: ordering under concurrency (one
 * process and two "replicas"), fail-closed when Redis is gone, and `verify`
 * naming the first edited, removed or reordered event.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { GENESIS_HASH } from '../../src/audit/events.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { verifyRedis } from '../../src/audit/verify.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { sessionEvents } from './fixtures.ts';

const prefixes: string[] = [];
const clients: Redis[] = [];

function fresh(): { log: RedisAuditLog; redis: Redis; prefix: string } {
  const prefix = uniquePrefix('audit');
  prefixes.push(prefix);
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  return { log: new RedisAuditLog(redis, { prefix }), redis, prefix };
}

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const p of prefixes) await cleanupPrefix(p);
});

/** Rewrite the stream as an attacker with Redis access would: same ids, altered entries. */
async function rewrite(redis: Redis, key: string, change: (rows: Array<[string, string[]]>) => Array<[string, string[]]>): Promise<void> {
  const rows = (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>;
  const next = change(rows);
  await redis.del(key);
  for (const [id, fields] of next) await redis.xadd(key, id, ...fields);
}

function setField(fields: string[], name: string, value: string): string[] {
  const out = [...fields];
  out[out.indexOf(name) + 1] = value;
  return out;
}

describe('append', () => {
  it('keeps 100 parallel appends in one valid chain, in call order', async () => {
    const { log } = fresh();
    const inputs = Array.from({ length: 100 }, (_, i) => sessionEvents({ id: `q${i % 10}` })[i % 7]!);
    const stored = await Promise.all(inputs.map((e) => log.append(e)));
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(stored[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < 100; i++) expect(stored[i]!.prevHash).toBe(stored[i - 1]!.hash);
    const report = await verifyRedis(log);
    expect(report).toMatchObject({ ok: true, checked: 100, last: { seq: 100, hash: stored[99]!.hash } });
  });

  it('appends made in the same tick go to Redis in one round trip, in call order', async () => {
    const { log, redis } = fresh();
    // Count the append script's calls on the real connection (a spy that passes every call through).
    const target = redis as unknown as { airlockAuditAppend(...a: unknown[]): Promise<unknown> };
    const original = target.airlockAuditAppend.bind(redis);
    let calls = 0;
    target.airlockAuditAppend = (...a: unknown[]) => {
      calls++;
      return original(...a);
    };
    await log.append(sessionEvents({ id: 'warm' })[0]!); // the first append also reads the head
    calls = 0;
    const [received, decided] = sessionEvents({ id: 'pair' });
    const stored = await Promise.all([log.append(received!), log.append(decided!)]);
    expect(calls).toBe(1);
    expect(stored.map((e) => e.type)).toEqual(['received', 'decided']);
    expect(stored[1]!.prevHash).toBe(stored[0]!.hash);
  });

  it('indexes every term of an event with hundreds of them (the summary is written in chunks)', async () => {
    const { log, redis } = fresh();
    // 300 columns: 300 `obj:` terms and markers, over the 256 fields one HSET of the script carries.
    const columns = Array.from({ length: 300 }, (_, i) => `ANALYTICS.PUBLIC.WIDE.C${i}`);
    const [received, decided] = sessionEvents({ id: 'wide', tables: ['ANALYTICS.PUBLIC.WIDE'], columns });
    await Promise.all([log.append(received!), log.append(decided!)]);
    const summary = await redis.hgetall(log.keys.summary('wide'));
    const markers = Object.keys(summary).filter((f) => f.startsWith('t:obj:'));
    // Each column under its three suffixes of two parts or more, and the table under its three.
    expect(markers).toHaveLength(300 * 3 + 3);
    expect(summary['t:obj:WIDE.C299']).toBe('1');
    expect(summary).toMatchObject({ agent: 'agent-a', action: 'review', status: 'pending_approval', events: '2' });
    expect(await redis.zscore(log.keys.term('obj:WIDE.C0'), 'wide')).not.toBeNull();
  });

  it('orders appends from two replicas (separate connections) into one chain', async () => {
    const a = fresh();
    const b = new RedisAuditLog(new Redis(REDIS_URL), { prefix: a.prefix });
    clients.push(b.redis);
    const events = sessionEvents({ id: 'shared' });
    const all = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a.log : b).append(events[i % events.length]!)));
    expect(new Set(all.map((e) => e.seq)).size).toBe(60);
    expect(await verifyRedis(a.log)).toMatchObject({ ok: true, checked: 60 });
  });

  it('fails closed with AUDIT_UNAVAILABLE when Redis is unreachable', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const log = new RedisAuditLog(redis, { prefix: uniquePrefix('audit-down'), timeoutMs: 500 });
    const err = await log.append(sessionEvents({ id: 'q' })[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirlockError);
    expect((err as AirlockError).code).toBe('AUDIT_UNAVAILABLE');
    redis.disconnect();
  });

  it('fails closed when Redis stops answering mid-way, then recovers', async () => {
    // A TCP relay in front of the real Redis that can hold traffic back, so only this
    // test's connection stalls (blocking the shared Redis would disturb other test files).
    let held = false;
    const backlog: Array<() => void> = [];
    const relay = createServer((client) => {
      const upstream = connect(6379, '127.0.0.1');
      client.on('data', (chunk) => (held ? backlog.push(() => upstream.write(chunk)) : upstream.write(chunk)));
      upstream.on('data', (chunk) => client.write(chunk));
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as AddressInfo).port;
    const redis = new Redis(`redis://127.0.0.1:${port}`);
    clients.push(redis);
    const prefix = uniquePrefix('audit-stall');
    prefixes.push(prefix);
    const log = new RedisAuditLog(redis, { prefix, timeoutMs: 200 });
    try {
      await log.append(sessionEvents({ id: 'q' })[0]!);
      held = true;
      const err = await log.append(sessionEvents({ id: 'q' })[1]!).catch((e: unknown) => e);
      expect((err as AirlockError).code).toBe('AUDIT_UNAVAILABLE');
      held = false;
      for (const send of backlog.splice(0)) send();
      await new Promise((r) => setTimeout(r, 100));
      await log.append(sessionEvents({ id: 'q' })[2]!);
      expect((await verifyRedis(log)).ok).toBe(true);
    } finally {
      redis.disconnect();
      relay.close();
    }
  });
});

describe('verify in Redis', () => {
  async function seeded() {
    const f = fresh();
    for (const e of [...sessionEvents({ id: 'q1' }), ...sessionEvents({ id: 'q2', outcome: 'rejected' })]) await f.log.append(e);
    return f;
  }

  it('passes an untouched log', async () => {
    const { log } = await seeded();
    expect(await verifyRedis(log)).toMatchObject({ ok: true, checked: 13 });
  });

  it('names an edited event', async () => {
    const { log, redis } = await seeded();
    await rewrite(redis, log.keys.stream, (rows) =>
      rows.map(([id, f], i) => [id, i === 3 ? setField(f, 'event', f[f.indexOf('event') + 1]!.replace('"approve"', '"deny"')) : f]),
    );
    const r = await verifyRedis(log);
    expect(r.problem).toMatchObject({ kind: 'edited', seq: 4, session: 'q1', type: 'vote' });
    expect(r.problem?.message).toMatch(/^Event seq 4 \(session q1, vote\) at redis .* was edited/);
  });

  it('names an event edited and re-hashed (the next link breaks)', async () => {
    const { log, redis } = await seeded();
    const { canonicalJson, hashEvent } = await import('../../src/audit/events.ts');
    await rewrite(redis, log.keys.stream, (rows) =>
      rows.map(([id, f], i) => {
        if (i !== 2) return [id, f];
        const rec = JSON.parse(f[f.indexOf('event') + 1]!);
        rec.data.channel = 'C-EVIL';
        return [id, setField(setField(f, 'event', canonicalJson(rec)), 'hash', hashEvent(rec))];
      }),
    );
    expect((await verifyRedis(log)).problem).toMatchObject({ kind: 'edited', seq: 3 });
  });

  it('names a removed event, in the middle and at the end', async () => {
    const { log, redis } = await seeded();
    await rewrite(redis, log.keys.stream, (rows) => rows.filter((_, i) => i !== 6));
    expect((await verifyRedis(log)).problem).toMatchObject({ kind: 'removed', seq: 7 });
    const other = await seeded();
    await rewrite(other.redis, other.log.keys.stream, (rows) => rows.slice(0, -2));
    const r = await verifyRedis(other.log);
    expect(r.problem).toMatchObject({ kind: 'removed', seq: 12 });
    expect(r.problem?.message).toContain('seq 12–13 were removed from the end');
  });

  it('names reordered events', async () => {
    const { log, redis } = await seeded();
    await rewrite(redis, log.keys.stream, (rows) => rows.map(([id], i) => [id, rows[i === 3 ? 4 : i === 4 ? 3 : i]![1]]));
    expect((await verifyRedis(log)).problem).toMatchObject({ kind: 'reordered', seq: 5 });
  });
});
