/**
 * Who may use the Snowflake-wire door, and what a session may reach: OAuth
 * logins only (the real dev OIDC issuer's tokens), sessions bound to their
 * agent, chunk links bound to their session, and the session log. The
 * unmodified snowflake-sdk where a driver can show it; raw HTTP where the test
 * needs a token the driver keeps to itself.
 */
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { apiClient } from '../support/api-client.ts';
import { uniquePrefix } from '../support/redis.ts';
import { closeWire, connectWire, run, type DriverError } from '../support/wire-driver.ts';

const prefix = uniquePrefix('wire-sessions');
let suite: DevSuite;
let tokenA: string;
let tokenB: string;

/** POST a wire call as the driver would (JSON body, optional session token). */
async function wire(path: string, body: unknown, sessionToken?: string, method = 'POST'): Promise<any> {
  const res = await fetch(`${suite.env.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(sessionToken ? { authorization: `Snowflake Token="${sessionToken}"` } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return res.json();
}

/** Log in over raw HTTP; the login response's data. */
async function login(data: Record<string, unknown>): Promise<any> {
  return wire('/session/v1/login-request', { data: { ACCOUNT_NAME: 'airlock', LOGIN_NAME: '', ...data } });
}

async function connectError(options: Record<string, unknown>): Promise<DriverError> {
  try {
    await connectWire(suite.env.apiUrl, tokenA, options);
  } catch (err) {
    return err as DriverError;
  }
  throw new Error('expected the login to fail');
}

beforeAll(async () => {
  suite = await startDevSuite({ prefix });
  tokenA = await suite.env.mintToken({ agent: 'agent-a', owner: 'a@example.com', groups: ['analysts'] });
  tokenB = await suite.env.mintToken({ agent: 'agent-b', owner: 'b@example.com', groups: ['analysts'] });
}, 120_000);

afterAll(async () => suite?.close());

describe('logins', () => {
  it('refuses password and key-pair logins with Snowflake codes, and a bad OAuth token with the driver\u2019s OAuth error', async () => {
    const password = await connectError({ authenticator: 'SNOWFLAKE', username: 'agent-a', password: 'pw', token: undefined });
    expect(password.code).toBe('390100');
    expect(password.message).toContain('OAuth');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyPair = await connectError({ authenticator: 'SNOWFLAKE_JWT', username: 'agent-a', privateKey, token: undefined });
    expect(keyPair.code).toBe('390144');
    const forged = await connectError({ token: `${tokenA.slice(0, -4)}AAAA` });
    expect(forged.code).toBe('390303');
    expect(forged.message).toContain('Airlock AUTH_');
    const otherName = await connectError({ username: 'agent-b' });
    expect(otherName.code).toBe('390303');
  });

  it('accepts the agent\u2019s own id as user name, and any account name', async () => {
    const conn = await connectWire(suite.env.apiUrl, tokenA, { username: 'AGENT-A', account: 'whatever-org' });
    expect((await run(conn, 'select 1 as one')).rows).toEqual([{ ONE: 1 }]);
    await closeWire(conn);
  });

  it('reads gzipped bodies with or without Content-Encoding, and bodies without a Content-Type', async () => {
    const body = JSON.stringify({ data: { ACCOUNT_NAME: 'airlock', AUTHENTICATOR: 'OAUTH', TOKEN: tokenA } });
    const gz = gzipSync(body);
    for (const headers of [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, { 'content-type': 'application/json' }, {}] as Array<Record<string, string>>) {
      const res = await fetch(`${suite.env.apiUrl}/session/v1/login-request`, { method: 'POST', headers, body: gz });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { success: boolean }).success).toBe(true);
    }
    const plain = await fetch(`${suite.env.apiUrl}/session/v1/login-request`, { method: 'POST', body });
    expect(((await plain.json()) as { success: boolean }).success).toBe(true);
    const garbage = await fetch(`${suite.env.apiUrl}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(garbage.status).toBe(200);
    expect(await garbage.json()).toMatchObject({ success: false, code: '390101' });
  });

  it('is off with AIRLOCK_SNOWFLAKE_WIRE=off: the driver endpoints are not there', async () => {
    const offPrefix = uniquePrefix('wire-off');
    const off = await startDevSuite({ prefix: offPrefix, env: { AIRLOCK_SNOWFLAKE_WIRE: 'off' } });
    try {
      const res = await fetch(`${off.env.apiUrl}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  }, 120_000);

  it('checks tokens as the REST API does: with AIRLOCK_OWNERLESS_TOKENS=refuse_token a token without an owner cannot log in', async () => {
    const strict = await startDevSuite({ prefix: uniquePrefix('wire-owner'), env: { AIRLOCK_OWNERLESS_TOKENS: 'refuse_token' } });
    try {
      const ownerless = await strict.env.mintToken({ agent: 'nobodys-bot' });
      const err = await connectWire(strict.env.apiUrl, ownerless).then(
        () => undefined,
        (e: DriverError) => e,
      );
      expect(err?.code).toBe('390303');
      expect(err?.message).toContain('Airlock FORBIDDEN');
      // The same token on the REST API: refused alike.
      expect((await apiClient(strict.env.apiUrl, ownerless)('/v1/queries', { body: { sql: 'select 1' } })).status).toBe(403);
      const owned = await strict.env.mintToken({ agent: 'owned-bot', owner: 'o@example.com' });
      await closeWire(await connectWire(strict.env.apiUrl, owned));
    } finally {
      await strict.close();
    }
  }, 120_000);
});

describe('sessions', () => {
  it('a session token reaches only its own agent\u2019s queries; a tampered or closed session is refused', async () => {
    const a = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenA })).data;
    const b = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenB })).data;
    const submitted = await wire('/queries/v1/query-request', { sqlText: 'select 1 as one' }, a.token);
    expect(submitted.success).toBe(true);
    const id: string = submitted.data.queryId;

    const stolen = await wire(`/queries/${id}/result`, undefined, b.token, 'GET');
    expect(stolen).toMatchObject({ success: false, code: '000709' });
    expect((await wire(`/monitoring/queries/${id}`, undefined, b.token, 'GET')).data.queries).toEqual([]);
    expect(await wire(`/queries/${id}/abort-request`, {}, b.token)).toMatchObject({ success: false, code: '000605' });
    expect((await wire(`/queries/${id}/result`, undefined, a.token, 'GET')).data.rowset).toEqual([['1']]);

    const [kind, session, secret] = (a.token as string).split('.');
    const tampered = `${kind}.${session}.${secret!.slice(0, -2)}xx`;
    expect(await wire(`/queries/${id}/result`, undefined, tampered, 'GET')).toMatchObject({ success: false, code: '390104' });
    // B's session id with A's secret, and the master token used as a session token: refused.
    expect(await wire('/session/heartbeat', {}, `ST.${b.sessionId}.${secret}`)).toMatchObject({ success: false, code: '390104' });
    expect(await wire('/session/heartbeat', {}, a.masterToken)).toMatchObject({ success: false, code: '390104' });

    expect((await wire('/session/heartbeat', {}, a.token)).success).toBe(true);
    expect((await wire('/session?delete=true', {}, a.token)).success).toBe(true);
    expect(await wire('/session/heartbeat', {}, a.token)).toMatchObject({ success: false, code: '390104' });
  });

  it('renews the session token with the master token; the old token stops working', async () => {
    const a = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenA })).data;
    const renewed = await wire('/session/token-request', { oldSessionToken: a.token, requestType: 'RENEW' }, a.masterToken);
    expect(renewed.success).toBe(true);
    expect(renewed.data.sessionToken).not.toBe(a.token);
    expect(await wire('/session/heartbeat', {}, a.token)).toMatchObject({ success: false, code: '390104' });
    expect((await wire('/session/heartbeat', {}, renewed.data.sessionToken)).success).toBe(true);
    // The token never outlives the OIDC token it was opened with.
    const exp = JSON.parse(Buffer.from(tokenA.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(a.masterValidityInSeconds).toBeLessThanOrEqual(exp - Math.floor(Date.now() / 1000) + 1);
  });

  it('chunk links work without a session token, only with their key, and end with the session', async () => {
    const a = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenA })).data;
    const sql = 'select order_id, status from analytics.public.orders order by order_id limit 2500';
    const first = await wire('/queries/v1/query-request', { sqlText: sql }, a.token);
    expect(first.success).toBe(true);
    const [chunk] = first.data.chunks as Array<{ url: string; rowCount: number }>;
    expect(chunk!.rowCount).toBe(1500);
    const headers = first.data.chunkHeaders as Record<string, string>;
    const got = await fetch(chunk!.url, { headers });
    expect(got.status).toBe(200);
    const rows = JSON.parse(`[${await got.text()}]`) as string[][];
    expect(rows).toHaveLength(1500);
    expect(rows[0]![0]).toBe(String(first.data.rowset.at(-1)[0] * 1 + 1));

    expect((await fetch(chunk!.url, { headers: { ...headers, 'x-amz-server-side-encryption-customer-key': 'wrong' } })).status).toBe(403);
    const b = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenB })).data;
    expect((await fetch(chunk!.url.replace(`/${a.sessionId}/`, `/${b.sessionId}/`), { headers })).status).toBe(404);
    await wire('/session?delete=true', {}, a.token);
    expect((await fetch(chunk!.url, { headers })).status).toBe(404);
  });

  it('the session log records a wire statement like any other, marked as from the wire', async () => {
    const a = (await login({ AUTHENTICATOR: 'OAUTH', TOKEN: tokenA })).data;
    const submitted = await wire('/queries/v1/query-request', { sqlText: 'select 2 as two' }, a.token);
    const id: string = submitted.data.queryId;
    const reviewer = await suite.env.mintToken({ agent: 'auditor', owner: 'sec@example.com', scopes: ['airlock:review'] });
    const transcript = await apiClient(suite.env.apiUrl, reviewer)(`/v1/sessions/${id}`);
    expect(transcript.status).toBe(200);
    const events = transcript.json.events as Array<{ type: string; data: any }>;
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['received', 'decided', 'execution_started', 'execution_finished']));
    const received = events.find((e) => e.type === 'received')!;
    expect(received.data).toMatchObject({ agent: 'agent-a', sql: 'select 2 as two', labels: { via: 'snowflake-wire', 'wire-session': a.sessionId } });
    expect(received.data.purpose).toContain('Snowflake wire');
    const search = await apiClient(suite.env.apiUrl, reviewer)('/v1/sessions?agent=agent-a');
    expect(JSON.stringify(search.json)).toContain(id);
  });
});
