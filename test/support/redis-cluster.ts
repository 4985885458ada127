/**
 * A real Redis Cluster for one test file: three `redis-server
 * --cluster-enabled yes` masters on free loopback ports, joined with
 * `redis-cli --cluster create`, in a temporary directory removed on stop.
 * Optionally TLS only (a throwaway CA and a certificate for 127.0.0.1, made
 * with openssl; TLS on the cluster bus too) and a password, as managed
 * clusters run. Bounded: start-up fails within ~50 s with the servers' output.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { until } from './until.ts';

const run = promisify(execFile);

/** How the cluster is secured. */
export interface RedisClusterOptions {
  /** TLS only, with a CA of its own (its file is `caFile`). */
  tls?: boolean;
  /** requirepass / masterauth. */
  password?: string;
}

/** A running cluster. */
export interface RedisCluster {
  /** The CA certificate file when TLS is on. */
  caFile?: string;
  /** `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`: the value for REDIS_CLUSTER_NODES. */
  nodes: string;
  ports: number[];
  /** A cluster client for the test's own reads. */
  client(): Cluster;
  /** Keys on every master (DBSIZE summed), and how many of them sit in `slot`. */
  keyCounts(slot: number): Promise<{ total: number; inSlot: number }>;
  stop(): Promise<void>;
}

/** Is `port` free on loopback? */
function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Three ports whose cluster bus ports (+10000) are free too. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.includes(port)) continue;
    if ((await free(port)) && (await free(port + 10_000))) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster');
  return ports;
}

/** A CA and a server certificate for 127.0.0.1 in `dir`. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const at = (f: string) => join(dir, f);
  await writeFile(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '1', '-subj', '/CN=airlock-test-ca']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
  await run('openssl', ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.crt'), '-days', '1', '-extfile', at('san.ext')]);
  return { ca: at('ca.crt'), cert: at('server.crt'), key: at('server.key') };
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-redis-cluster-'));
  const ports = await freePorts(3);
  const output: string[] = [];
  const certs = options.tls ? await makeCertificates(dir) : undefined;
  const secure = [
    ...(certs ? ['--port', '0', '--tls-cluster', 'yes', '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'] : []),
    ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []),
  ];
  // What redis-cli needs to reach these servers.
  const cliSecure = [...(certs ? ['--tls', '--cacert', certs.ca] : []), ...(options.password ? ['-a', options.password, '--no-auth-warning'] : [])];
  const nodeOptions = {
    host: '127.0.0.1',
    ...(certs ? { tls: { ca: readFileSync(certs.ca) } } : {}),
    ...(options.password ? { password: options.password } : {}),
  };
  const servers: ChildProcess[] = ports.map((port) => {
    const child = spawn(
      'redis-server',
      [certs ? '--tls-port' : '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '2000', '--dir', dir, '--save', '', '--appendonly', 'no', ...secure],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    return child;
  });
  const stop = async () => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => (s.exitCode !== null ? undefined : new Promise((r) => s.once('exit', r)))));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await until(`redis-server on ${port}`, async () => {
        const r = new Redis({ ...nodeOptions, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          r.disconnect();
        }
      }, 15_000);
    }
    await run('redis-cli', [...cliSecure, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, async () => {
        const { stdout } = await run('redis-cli', [...cliSecure, '-p', String(port), 'cluster', 'info'], { timeout: 5_000 });
        return stdout.includes('cluster_state:ok');
      }, 15_000);
    }
  } catch (err) {
    await stop();
    throw new Error(`the Redis Cluster did not start: ${(err as Error).message}\n${output.join('').slice(-2000)}`);
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`).join(',');
  return {
    ...(certs ? { caFile: certs.ca } : {}),
    nodes,
    ports,
    client: () => {
      const { host: _host, ...perNode } = nodeOptions;
      return new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { maxRetriesPerRequest: 1, ...perNode } });
    },
    async keyCounts(slot) {
      let total = 0;
      let inSlot = 0;
      for (const port of ports) {
        const r = new Redis({ ...nodeOptions, port, maxRetriesPerRequest: 1 });
        try {
          total += await r.dbsize();
          inSlot += Number(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)));
        } finally {
          r.disconnect();
        }
      }
      return { total, inSlot };
    },
    stop,
  };
}
