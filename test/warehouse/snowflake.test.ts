/**
 * The Snowflake adapter against the Snowflake-wire emulator, through the real
 * snowflake-sdk with key-pair auth (an encrypted PKCS#8 key file): the port's
 * contract, then what only this adapter has (key handling, a dead warehouse,
 * the driver's logging).
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The driver probes cloud metadata endpoints (and builds an AWS STS client,
// which prints a Node-version warning) when it is imported; not in tests.
vi.hoisted(() => {
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
});

import { createLogger } from '../../src/log.ts';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { createSnowflakeWarehouse, type SnowflakeSettings } from '../../src/warehouse/snowflake.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { collect, rejection, warehouseContract } from './contract.ts';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';

const ACCOUNT = 'EMU';
const USER = 'airlock_svc';
const PASSWORD = 'monitoring-only password';
const PASSPHRASE = 'correct horse battery staple';

function keyPair(): { publicKeyPem: string; encryptedPrivateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    encryptedPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }).toString(),
  };
}

/** Driver log lines, captured through the adapter's logger (the first adapter in a process configures the driver). */
const driverLines: string[] = [];
const logger = createLogger({
  level: 'trace',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      driverLines.push(chunk.toString());
      done();
    },
  }),
});

const good = keyPair();
const stranger = keyPair();
let dir: string;
let keyPath: string;
let strangerKeyPath: string;
let emu: Emulator;
let proxy: RecordingProxy;
const snowflakeLogExisted = existsSync(join(process.cwd(), 'snowflake.log'));

function settings(extra: Partial<SnowflakeSettings> = {}): SnowflakeSettings {
  return {
    account: ACCOUNT,
    user: USER,
    accessUrl: proxy.url,
    privateKeyPath: keyPath,
    privateKeyPassphrase: PASSPHRASE,
    poolSize: 1,
    acquireTimeoutMs: 10_000,
    logger,
    ...extra,
  };
}

/** The emulator's own view of a statement, over its monitoring route (password login, not the adapter's session). */
async function queryStatus(queryId: string): Promise<string | undefined> {
  const login = (await (
    await fetch(`${emu.url}/session/v1/login-request`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { ACCOUNT_NAME: ACCOUNT, LOGIN_NAME: USER, PASSWORD, AUTHENTICATOR: 'SNOWFLAKE' } }),
    })
  ).json()) as { data: { token: string } };
  const res = (await (
    await fetch(`${emu.url}/monitoring/queries/${queryId}`, { headers: { Authorization: `Snowflake Token="${login.data.token}"` } })
  ).json()) as { data: { queries: { status: string }[] } };
  await fetch(`${emu.url}/session?delete=true`, { method: 'POST', headers: { Authorization: `Snowflake Token="${login.data.token}"` } });
  return res.data.queries[0]?.status;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-wh-'));
  keyPath = join(dir, 'rsa_key.p8');
  strangerKeyPath = join(dir, 'stranger_key.p8');
  await writeFile(keyPath, good.encryptedPrivateKeyPem, { mode: 0o600 });
  await writeFile(strangerKeyPath, stranger.encryptedPrivateKeyPem, { mode: 0o600 });
  emu = await startEmulator({ port: 0, account: ACCOUNT, user: USER, publicKeyPem: good.publicKeyPem, password: PASSWORD, seed: 'demo' });
  proxy = await startRecordingProxy(emu.url);
});

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

warehouseContract('snowflake-sdk → emulator (key pair)', () => createSnowflakeWarehouse(settings()), {
  sessionCount: () => emu.stats().sessions,
  queryStatus,
  queryTagOf: (id) => proxy.queryTagOf(id),
});

/** A free TCP port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Snowflake adapter: credentials', () => {
  it('a key the warehouse does not know is WAREHOUSE_AUTH', async () => {
    const wh = await createSnowflakeWarehouse(settings({ privateKeyPath: strangerKeyPath }));
    try {
      const err = await rejection(wh.execute('select 1'));
      expect(err.code).toBe('WAREHOUSE_AUTH');
      expect(err.details).toMatchObject({ snowflakeCode: '390144' });
    } finally {
      await wh.close();
    }
  });

  it('a wrong passphrase is WAREHOUSE_AUTH before any network', async () => {
    // Nothing listens at the URL, and creation fails before any connection.
    const url = `http://127.0.0.1:${await deadPort()}`;
    const t0 = performance.now();
    const err = await rejection(createSnowflakeWarehouse(settings({ accessUrl: url, privateKeyPassphrase: 'wrong' })));
    expect(err.code).toBe('WAREHOUSE_AUTH');
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(JSON.stringify(err.details)).not.toContain('wrong');
  });

  it('a missing key file is WAREHOUSE_AUTH', async () => {
    const err = await rejection(createSnowflakeWarehouse(settings({ privateKeyPath: join(dir, 'absent.p8') })));
    expect(err.code).toBe('WAREHOUSE_AUTH');
  });
});

describe('Snowflake adapter: unreachable warehouse', () => {
  it('nothing listening is WAREHOUSE_UNAVAILABLE within seconds', async () => {
    const wh = await createSnowflakeWarehouse(settings({ accessUrl: `http://127.0.0.1:${await deadPort()}` }));
    try {
      const t0 = performance.now();
      expect((await rejection(wh.execute('select 1'))).code).toBe('WAREHOUSE_UNAVAILABLE');
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      await wh.close();
    }
  });

  it('a warehouse that stops under a pooled session is WAREHOUSE_UNAVAILABLE within seconds', async () => {
    const own = await startEmulator({ port: 0, account: ACCOUNT, user: USER, publicKeyPem: good.publicKeyPem, seed: 'none' });
    const wh = await createSnowflakeWarehouse(settings({ accessUrl: own.url }));
    try {
      expect((await collect(wh, 'select 1 as one')).rows).toEqual([[1]]);
      await own.close();
      const t0 = performance.now();
      // The driver alone would retry this statement for about two minutes.
      expect((await rejection(wh.execute('select 1'))).code).toBe('WAREHOUSE_UNAVAILABLE');
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      await wh.close();
      await own.close();
    }
  });
});

describe('Snowflake adapter: the namespace it logs in to', () => {
  it('uses the database and schema it is given, and after useNamespace logs in to the new ones (idle connections retire)', async () => {
    const wh = await createSnowflakeWarehouse(settings({ database: 'ANALYTICS', schema: 'PUBLIC' }));
    try {
      expect((await collect(wh, 'select current_database(), current_schema()')).rows).toEqual([['ANALYTICS', 'PUBLIC']]);
      wh.useNamespace({ database: 'ANALYTICS', schema: 'OTHER' });
      expect((await collect(wh, 'select current_database(), current_schema()')).rows).toEqual([['ANALYTICS', 'OTHER']]);
    } finally {
      await wh.close();
    }
  });
});

describe('Snowflake adapter: driver logging', () => {
  it('goes to our logger, never to the console or a snowflake.log in cwd', async () => {
    const writes: string[] = [];
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        writes.push(String(chunk));
        return true;
      }),
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
        writes.push(String(chunk));
        return true;
      }),
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void writes.push(a.join(' ')))),
    ];
    const before = driverLines.length;
    try {
      // A failed login makes the driver log at ERROR level.
      const wh = await createSnowflakeWarehouse(settings({ privateKeyPath: strangerKeyPath }));
      await rejection(wh.execute('select 1'));
      await wh.close();
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(writes).toEqual([]);
    const lines = driverLines.slice(before).map((l) => JSON.parse(l) as { component?: string; msg?: string });
    expect(lines.some((l) => l.component === 'snowflake-sdk' && /connection failed|fail/i.test(l.msg ?? ''))).toBe(true);
    if (!snowflakeLogExisted) expect(existsSync(join(process.cwd(), 'snowflake.log'))).toBe(false);
    // The key never reaches the logs.
    expect(driverLines.join('\n')).not.toContain('PRIVATE KEY');
  });
});

describe('Snowflake adapter: latency', () => {
  it('measures the warm p50 of a 3-row select (printed, not asserted)', async () => {
    // Direct to the emulator, not through the recording proxy.
    const wh: Warehouse = await createSnowflakeWarehouse(settings({ accessUrl: emu.url }));
    try {
      const sql = 'select customer_id, first_name, last_name from customers where customer_id <= 3 order by 1';
      for (let i = 0; i < 5; i++) expect((await collect(wh, sql)).rows).toHaveLength(3);
      const ms: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t0 = performance.now();
        await collect(wh, sql);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      const p = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(1);
      process.stdout.write(`[warehouse] warm 3-row select via adapter: p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, min ${p(0)} ms (n=${ms.length})\n`);
    } finally {
      await wh.close();
    }
  });
});
