/**
 * Redis Cluster with TLS and a password, as managed clusters run: three
 * masters that speak TLS only (a throwaway CA, a certificate for 127.0.0.1,
 * TLS on the cluster bus) and require a password. The session log is written
 * on it through the cluster client, then `airlock audit verify` — a real CLI
 * process configured only by `REDIS_CLUSTER_NODES=rediss://:PASSWORD@…` and
 * the CA in NODE_EXTRA_CA_CERTS (as for Memorystore) — reads the chain back.
 * A wrong password is refused, and no password reaches the output.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { sessionEvents } from '../audit/fixtures.ts';
import { airlock } from '../support/cli.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { uniquePrefix } from '../support/redis.ts';

const PASSWORD = 'cluster-secret-7f3a';
const label = uniquePrefix('cluster-tls');
let cluster: RedisCluster;

const nodesWith = (password: string) => cluster.ports.map((p, i) => (i === 0 ? `rediss://:${password}@127.0.0.1:${p}` : `127.0.0.1:${p}`)).join(',');
const cli = (password: string) => ({ REDIS_CLUSTER_NODES: nodesWith(password), AIRLOCK_REDIS_PREFIX: label, NODE_EXTRA_CA_CERTS: cluster.caFile! });

beforeAll(async () => {
  cluster = await startRedisCluster({ tls: true, password: PASSWORD });
  const client = cluster.client();
  try {
    // Same commands, other class: the session log takes the cluster client as Airlock's own factory gives it.
    const log = new RedisAuditLog(client as unknown as Redis, { prefix: `{${label}}` });
    for (const event of sessionEvents({ id: 'tls-session-1' })) await log.append(event);
  } finally {
    client.disconnect();
  }
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('Redis Cluster over TLS with a password', () => {
  it('airlock audit verify reads the chain through rediss:// with the password', async () => {
    const verified = await airlock(['audit', 'verify'], { env: cli(PASSWORD) });
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
    expect(verified.stderr).toContain(`key prefix {${label}}`);
    expect(verified.stdout + verified.stderr).toMatch(/\b(8|9|10) events?\b/);
    expect(verified.stdout + verified.stderr).not.toContain(PASSWORD);
  }, 120_000);

  it('is refused with a wrong password, which is not printed either', async () => {
    const refused = await airlock(['audit', 'verify'], { env: cli('not-the-password') });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).not.toContain('not-the-password');
  }, 120_000);
});
