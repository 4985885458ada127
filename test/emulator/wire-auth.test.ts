/**
 * Login, key-pair auth, tokens and session lifecycle through the real driver
 * (and raw HTTP where the driver gives no handle).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.ts';
import { ACCOUNT, USER, connect, destroy, emulator, exec, post, rawLogin, rsaKeyPair } from './wire-helpers.ts';

const keys = rsaKeyPair();
const otherKeys = rsaKeyPair();
let clockOffsetMs = 0;
let emu: Emulator;

beforeAll(async () => {
  emu = await emulator({ publicKeyPem: keys.publicKeyPem, now: () => Date.now() + clockOffsetMs });
});
afterAll(() => emu?.close());

describe('password login', () => {
  it('accepts the right password and runs a query', async () => {
    const conn = await connect(emu);
    const { rows } = await exec(conn, 'SELECT 1 AS ONE');
    expect(rows).toEqual([{ ONE: 1 }]);
    await destroy(conn);
  });

  it('refuses a wrong password with 390100', async () => {
    await expect(connect(emu, { password: 'nope' })).rejects.toMatchObject({ code: '390100' });
  });

  it('refuses an unknown user with 390100', async () => {
    await expect(connect(emu, { username: 'someone_else' })).rejects.toMatchObject({ code: '390100' });
  });

  it('answers HTTP 200 with success:false (never 5xx) for a bad login', async () => {
    const { status, json } = await post(emu, '/session/v1/login-request', { data: { ACCOUNT_NAME: ACCOUNT, LOGIN_NAME: USER, PASSWORD: 'x' } });
    expect(status).toBe(200);
    expect(json).toMatchObject({ success: false, code: '390100' });
  });

  it('accepts a gzipped login body without Content-Encoding', async () => {
    const data = await rawLogin(emu, true);
    expect(typeof data.token).toBe('string');
    expect(data.sessionInfo).toMatchObject({ schemaName: 'PUBLIC' });
  });
});

describe('key-pair (SNOWFLAKE_JWT) login', () => {
  it('accepts a JWT signed with the registered key', async () => {
    const conn = await connect(emu, { authenticator: 'SNOWFLAKE_JWT', privateKey: keys.privateKeyPem, password: undefined });
    const { rows } = await exec(conn, 'SELECT 2 AS TWO');
    expect(rows).toEqual([{ TWO: 2 }]);
    await destroy(conn);
  });

  it('refuses a JWT signed with another key with 390144', async () => {
    await expect(
      connect(emu, { authenticator: 'SNOWFLAKE_JWT', privateKey: otherKeys.privateKeyPem, password: undefined }),
    ).rejects.toMatchObject({ code: '390144' });
  });

  it('refuses a forged JWT that names the right fingerprint but is signed by another key', async () => {
    const { createHash, createPublicKey, sign } = await import('node:crypto');
    const fp = createHash('sha256').update(createPublicKey(keys.publicKeyPem).export({ type: 'spki', format: 'der' })).digest('base64');
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Date.now();
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: `${ACCOUNT}.${USER.toUpperCase()}.SHA256:${fp}`, sub: `${ACCOUNT}.${USER.toUpperCase()}`, iat: now, exp: now + 60_000 })}`;
    const token = `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), otherKeys.privateKeyPem).toString('base64url')}`;
    const { json } = await post(emu, '/session/v1/login-request', {
      data: { ACCOUNT_NAME: ACCOUNT, LOGIN_NAME: USER, AUTHENTICATOR: 'SNOWFLAKE_JWT', TOKEN: token },
    });
    expect(json).toMatchObject({ success: false, code: '390144' });
  });

  it('refuses an expired JWT (seconds or milliseconds) with 390144', async () => {
    const { sign } = await import('node:crypto');
    const { createHash, createPublicKey } = await import('node:crypto');
    const fp = createHash('sha256').update(createPublicKey(keys.publicKeyPem).export({ type: 'spki', format: 'der' })).digest('base64');
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const nowSec = Math.floor(Date.now() / 1000);
    const mk = (iat: number, exp: number): string => {
      const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: `${ACCOUNT}.${USER.toUpperCase()}.SHA256:${fp}`, sub: `${ACCOUNT}.${USER.toUpperCase()}`, iat, exp })}`;
      return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), keys.privateKeyPem).toString('base64url')}`;
    };
    const login = (token: string) =>
      post(emu, '/session/v1/login-request', { data: { ACCOUNT_NAME: ACCOUNT, LOGIN_NAME: USER, AUTHENTICATOR: 'SNOWFLAKE_JWT', TOKEN: token } });
    expect((await login(mk(nowSec - 300, nowSec - 10))).json).toMatchObject({ success: false, code: '390144' });
    expect((await login(mk((nowSec - 300) * 1000, (nowSec - 10) * 1000))).json).toMatchObject({ success: false, code: '390144' });
    expect((await login(mk(nowSec, nowSec + 60))).json).toMatchObject({ success: true });
  });
});

describe('session tokens', () => {
  it('answers heartbeat through the driver', async () => {
    const conn = await connect(emu);
    // heartbeatAsync exists on the driver's connection but is missing from its typings.
    await expect((conn as unknown as { heartbeatAsync(): Promise<unknown> }).heartbeatAsync()).resolves.toBeDefined();
    expect(await conn.isValidAsync()).toBe(true);
    await destroy(conn);
  });

  it('renews an expired session token with the master token, transparently for the driver', async () => {
    const conn = await connect(emu);
    const renewalsBefore = emu.stats().tokenRenewals;
    clockOffsetMs = 2 * 3600 * 1000; // session token (1 h) expired, master token (4 h) still valid
    try {
      const { rows } = await exec(conn, 'SELECT 3 AS THREE');
      expect(rows).toEqual([{ THREE: 3 }]);
      expect(emu.stats().tokenRenewals).toBe(renewalsBefore + 1);
    } finally {
      clockOffsetMs = 0;
    }
    await destroy(conn);
  });

  it('renews over raw HTTP and retires the old session token', async () => {
    const login = await rawLogin(emu);
    const renewed = await post(emu, '/session/token-request', { requestType: 'RENEW', oldSessionToken: login.token }, { token: login.masterToken });
    expect(renewed.json).toMatchObject({ success: true, data: { validityInSecondsST: 3600 } });
    const fresh = renewed.json.data.sessionToken as string;
    expect(fresh).not.toBe(login.token);
    expect((await post(emu, '/session/heartbeat', {}, { token: login.token })).json).toMatchObject({ success: false, code: '390104' });
    expect((await post(emu, '/session/heartbeat', {}, { token: fresh })).json).toMatchObject({ success: true });
  });

  it('reports an expired master token with 390114', async () => {
    const login = await rawLogin(emu);
    clockOffsetMs = 5 * 3600 * 1000;
    try {
      const r = await post(emu, '/session/token-request', { requestType: 'RENEW', oldSessionToken: login.token }, { token: login.masterToken });
      expect(r.json).toMatchObject({ success: false, code: '390114' });
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('rejects unknown tokens with 390104 and HTTP 200', async () => {
    const r = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT 1' }, { token: 'bogus' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: false, code: '390104' });
  });

  it('destroys the session: its token stops working and the session is gone', async () => {
    const before = emu.stats().sessions;
    const login = await rawLogin(emu);
    expect(emu.stats().sessions).toBe(before + 1);
    const del = await post(emu, '/session?delete=true', {}, { token: login.token });
    expect(del.json).toMatchObject({ success: true });
    expect(emu.stats().sessions).toBe(before);
    const after = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT 1' }, { token: login.token });
    expect(after.json).toMatchObject({ success: false, code: '390104' });
  });

  it('driver destroy() deletes the server session', async () => {
    const before = emu.stats().sessions;
    const conn = await connect(emu);
    expect(emu.stats().sessions).toBe(before + 1);
    await destroy(conn);
    expect(emu.stats().sessions).toBe(before);
  });
});

describe('transport', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${emu.url}/nope/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('answers a malformed body with a Snowflake error, not a 500', async () => {
    const res = await fetch(`${emu.url}/session/v1/login-request`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: false, code: '390101' });
  });

  it('accepts telemetry', async () => {
    const login = await rawLogin(emu);
    expect((await post(emu, '/telemetry/send', { logs: [] }, { token: login.token })).json).toMatchObject({ success: true });
  });
});
