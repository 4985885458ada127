/** REDIS_CLUSTER_NODES and the cluster's key prefix (table-driven, pure), and airlock dev refusing a cluster. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDev } from '../../src/app/dev.ts';
import { createLogger } from '../../src/log.ts';
import { checkEnv } from '../../src/config/env.ts';
import { clusterPrefix, parseClusterNodes } from '../../src/config/redis-cluster.ts';

describe('parseClusterNodes', () => {
  it.each([
    ['127.0.0.1:7000,127.0.0.1:7001', { nodes: [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }], tls: false }],
    [' redis-0:6379 , redis-1 ', { nodes: [{ host: 'redis-0', port: 6379 }, { host: 'redis-1', port: 6379 }], tls: false }],
    [
      'rediss://default:s%40cret@clustercfg.airlock.abc123.use1.cache.amazonaws.com:6379',
      { nodes: [{ host: 'clustercfg.airlock.abc123.use1.cache.amazonaws.com', port: 6379 }], tls: true, username: 'default', password: 's@cret' },
    ],
    ['rediss://:pw@10.0.0.1:6380,10.0.0.2:6380', { nodes: [{ host: '10.0.0.1', port: 6380 }, { host: '10.0.0.2', port: 6380 }], tls: true, password: 'pw' }],
    ['[::1]:7000', { nodes: [{ host: '::1', port: 7000 }], tls: false }],
  ])('%s', (text, expected) => {
    expect(parseClusterNodes(text)).toEqual(expected);
  });

  it.each([[''], [' , '], ['http://h:1'], ['h:0'], ['h:99999'], ['h:port']])('refuses %j with a sentence', (text) => {
    const parsed = parseClusterNodes(text);
    expect('error' in parsed && typeof parsed.error).toBe('string');
  });
});

describe('clusterPrefix', () => {
  it.each([
    ['airlock', '{airlock}'],
    ['{airlock}', '{airlock}'],
    ['{team}:airlock', '{team}:airlock'],
    ['a{}b', '{a{}b}'],
  ])('%s → %s', (prefix, expected) => {
    expect(clusterPrefix(prefix)).toBe(expected);
  });
});

describe('the environment', () => {
  it('tags the prefix in cluster mode and leaves it alone on one Redis', () => {
    expect(checkEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', AIRLOCK_REDIS_PREFIX: 'prod' }).config?.AIRLOCK_REDIS_PREFIX).toBe('{prod}');
    expect(checkEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).config?.AIRLOCK_REDIS_PREFIX).toBe('{airlock}');
    expect(checkEnv({ REDIS_URL: 'redis://127.0.0.1:6379', AIRLOCK_REDIS_PREFIX: 'prod' }).config?.AIRLOCK_REDIS_PREFIX).toBe('prod');
  });

  it('refuses both REDIS_URL and REDIS_CLUSTER_NODES, and a bad node list', () => {
    expect(checkEnv({ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: 'h:2' }).problems.map((p) => p.variable)).toEqual(['REDIS_CLUSTER_NODES']);
    expect(checkEnv({ REDIS_CLUSTER_NODES: 'h:port' }).problems.map((p) => p.variable)).toEqual(['REDIS_CLUSTER_NODES']);
  });
});

describe('airlock dev', () => {
  it('refuses REDIS_CLUSTER_NODES before it starts anything', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'airlock-dev-cluster-'));
    try {
      const config = checkEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).config!;
      await expect(startDev({ config, logger: createLogger({ level: 'silent' }), stateDir, port: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      // The lock is released again: nothing of a dev is left behind.
      expect(await readdir(stateDir)).not.toContain('dev-lock.json');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
