/**
 * Real processes for the reliability suite (test/reliability/): a Redis of
 * its own with an append-only file on a free port, the Snowflake emulator, a
 * real OIDC provider (oidc-provider, the dev issuer's configuration) served
 * over TLS with a self-signed certificate the child processes are told to
 * trust, and `airlock serve --roles …` processes started from the real CLI
 * entry point. Everything can be killed with SIGKILL at a chosen moment.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { createDevProvider, loadProvider } from '../../src/identity/dev-provider.ts';
import { loadOrCreateSigningKeys, newClientSecret } from '../../src/identity/dev-state.ts';
import { resourceIndicatorFor } from '../../src/identity/dev-issuer.ts';
import { fetchDevToken, type DevTokenRequest } from '../../src/identity/dev-token.ts';
import { createLogger } from '../../src/log.ts';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ok().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A redis-server with `appendonly yes` (every write in the AOF before it is answered), restartable on the same port and data. */
export interface AofRedis {
  url: string;
  port: number;
  /** SIGKILL, no shutdown save: what survives is what the AOF holds. */
  kill9(): Promise<void>;
  /** Start again on the same port and directory (replays the AOF). */
  start(): Promise<void>;
  /** A fresh client (closed by the caller). */
  client(): Redis;
  stop(): Promise<void>;
}

export async function startAofRedis(dir: string): Promise<AofRedis> {
  const port = await freePort();
  await mkdir(dir, { recursive: true });
  let child: ChildProcess | undefined;
  const ping = async () => {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } finally {
      c.disconnect();
    }
  };
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', dir], {
      stdio: 'ignore',
    });
    await waitFor(`redis-server on ${port}`, ping, 10_000);
  };
  const kill9 = async () => {
    const dying = child;
    if (!dying || dying.exitCode !== null) return;
    const exited = new Promise((resolve) => dying.once('exit', resolve));
    dying.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill9,
    start,
    client: () => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 }),
    stop: kill9,
  };
}

/** The dev issuer's provider behind TLS: `airlock serve` verifies tokens only from an https issuer. */
export interface TlsIssuer {
  issuer: string;
  audience: string;
  /** PEM file of the self-signed certificate (NODE_EXTRA_CA_CERTS for child processes). */
  caPath: string;
  mintToken(req: DevTokenRequest): Promise<string>;
  close(): Promise<void>;
}

/** A fetch over node:https that trusts `ca` (only for the token endpoint calls the test process makes). */
function trustingFetch(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init?.method ?? 'GET', headers, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: out }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}

export async function startTlsIssuer(dir: string, audience: string): Promise<TlsIssuer> {
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, 'issuer-key.pem');
  const caPath = join(dir, 'issuer-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', caPath, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(caPath, 'utf8')]);
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;
  const resource = resourceIndicatorFor(audience);
  const clientSecret = newClientSecret();
  const provider = await createDevProvider(await loadProvider(), {
    issuer,
    audience,
    resource,
    clientSecret,
    jwks: await loadOrCreateSigningKeys(undefined),
    claimNames: { owner: 'owner', groups: 'groups', name: 'name' },
    logger: createLogger({ level: 'silent' }),
  });
  const server = createHttpsServer({ key, cert }, provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const fetchImpl = trustingFetch(cert);
  return {
    issuer,
    audience,
    caPath,
    mintToken: (req) => fetchDevToken({ issuer, resource, clientSecret }, req, { fetch: fetchImpl }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The emulator's key pair login: the public key for the emulator, the private key file for the workers. */
export async function emulatorWithKey(dir: string, init: NonNullable<Parameters<typeof startEmulator>[0]['init']>): Promise<{ emulator: Emulator; privateKeyPath: string }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPath = join(dir, 'snowflake-key.p8');
  await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const emulator = await startEmulator({
    port: 0,
    seed: 'none',
    account: 'AIRLOCK_REL',
    user: 'AIRLOCK_SVC',
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    database: 'ANALYTICS',
    schema: 'PUBLIC',
    warehouse: 'REL_WH',
    role: 'AIRLOCK_READER',
    init,
  });
  return { emulator, privateKeyPath };
}

/** One `airlock serve --roles …` process. */
export interface ServeProcess {
  pid: number;
  /** The HTTP address it printed (every role serves the operations routes). */
  url: string;
  /** Everything it wrote to stderr so far (the JSON log). */
  log(): string;
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Start the real CLI entry point (`src/cli/main.ts serve`, as `npm run airlock`
 * does, without npm in between so SIGKILL reaches the server itself) with
 * exactly `env` (plus PATH and HOME). Resolves once it prints its address.
 */
export async function spawnServe(roles: string, env: Record<string, string>, logPath?: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--roles', roles], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AIRLOCK_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const chunks: string[] = [];
  const file = logPath ? createWriteStream(logPath, { flags: 'a' }) : undefined;
  child.stderr!.on('data', (b: Buffer) => {
    chunks.push(b.toString('utf8'));
    file?.write(b);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`airlock serve --roles ${roles} did not start in 120 s:\n${chunks.join('')}`)), 120_000);
    const look = () => {
      const m = /airlock serving roles \S+ on (http:\/\/\S+)/.exec(chunks.join(''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', look);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`airlock serve --roles ${roles} exited:\n${chunks.join('')}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    file?.end();
  };
  return { pid: child.pid!, url, log: () => chunks.join(''), kill9: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
