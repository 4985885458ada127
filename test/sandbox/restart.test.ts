/**
 * `airlock dev` restarted while a DROP waits for approval: the sandbox's
 * channel comes back from the state directory, the query from Redis, and the
 * restored card still works — two approvals on it release the statement and
 * Airlock updates that same card. Real Redis, emulator and dev issuer; the
 * clicks are the page's signed requests (/sandbox/act).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDev, type DevEnvironment } from '../../src/app/dev.ts';
import { loadConfig } from '../../src/config/env.ts';
import { createLogger } from '../../src/log.ts';
import { SANDBOX_OWNER_EMAIL } from '../../src/sandbox/roster.ts';
import { apiClient } from '../support/api-client.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const prefix = uniquePrefix('sandbox-restart');
let stateDir: string | undefined;
let env: DevEnvironment | undefined;

async function start(): Promise<DevEnvironment> {
  stateDir ??= await mkdtemp(join(tmpdir(), `airlock-${prefix}-`));
  const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'silent' });
  return startDev({ config, logger: createLogger({ level: 'silent' }), stateDir, port: 0 });
}

afterAll(async () => {
  await env?.close();
  await cleanupPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

/** A signed Approve click on the page as `user`. */
async function approve(dev: DevEnvironment, user: string, ts: string, id: string): Promise<void> {
  const res = await fetch(`${dev.sandbox!.url}/act`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'button', user, ts, actionId: 'airlock_approve', value: id }),
  });
  expect(await res.json()).toEqual({ status: 200 });
}

describe('the sandbox across a restart of airlock dev', () => {
  it('keeps the card of a pending DROP clickable, and Airlock updates it after the restart', async () => {
    env = await start();
    const token = await env.mintToken({ agent: 'etl-bot', owner: SANDBOX_OWNER_EMAIL, groups: ['analysts'] });
    const submitted = await apiClient(env.apiUrl, token)('/v1/queries', { body: { sql: 'drop table if exists analytics.public.orders_2019' } });
    expect(submitted.status).toBe(202);
    const id = submitted.json.id as string;
    const first = env;
    const ts = await until('the card', () => [...first.sandbox!.workspace.messages].find(([, m]) => !m.thread_ts && JSON.stringify(m.blocks).includes(id))?.[0], 20_000);
    await approve(env, 'U0SBALICE', ts, id);
    await until('the first vote on the card', () => (first.sandbox!.workspace.messages.get(ts)?.edits ?? 0) > 0 || undefined, 20_000);
    await env.close();
    env = undefined;

    env = await start();
    const second = env;
    expect(JSON.stringify(second.sandbox!.workspace.messages.get(ts)?.blocks)).toContain(id);
    await approve(second, 'U0SBBOB', ts, id);
    const seen = await apiClient(second.apiUrl, await second.mintToken({ agent: 'etl-bot', owner: SANDBOX_OWNER_EMAIL }))(`/v1/queries/${id}?waitMs=10000`);
    expect(seen.json.status).toBe('succeeded');
    await until('the restored card to be finalised', () => (JSON.stringify(second.sandbox!.workspace.messages.get(ts)?.blocks).includes('— done') ? true : undefined), 20_000);
  }, 180_000);
});
