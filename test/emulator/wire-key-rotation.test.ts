/**
 * Key rotation through Snowflake's two key slots, rehearsed with the real
 * snowflake-sdk against the emulator by SQL, as an operator does it:
 * `ALTER USER … SET RSA_PUBLIC_KEY_2`, log in with the new key, `ALTER USER …
 * UNSET RSA_PUBLIC_KEY`, the old key is refused (390144).
 */
import type { Connection } from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.ts';
import { parseAlterUserKey } from '../../src/emulator/alter-user.ts';
import { connect, destroy, emulator, exec, execError, rsaKeyPair, USER } from './wire-helpers.ts';

const oldKey = rsaKeyPair();
const newKey = rsaKeyPair();
/** The value Snowflake takes: the base64 body without the armour lines. */
const body = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
let emu: Emulator;
const opened: Connection[] = [];

async function loginWith(privateKey: string): Promise<Connection> {
  const conn = await connect(emu, { authenticator: 'SNOWFLAKE_JWT', privateKey, password: undefined } as never);
  opened.push(conn);
  return conn;
}

beforeAll(async () => {
  emu = await emulator({ publicKeyPem: oldKey.publicKeyPem, seed: 'none' });
});

afterAll(async () => {
  await Promise.all(opened.map((c) => destroy(c).catch(() => undefined)));
  await emu?.close();
});

describe('ALTER USER … RSA_PUBLIC_KEY[_2]', () => {
  it('rotates from the first slot to the second with no gap', async () => {
    const admin = await loginWith(oldKey.privateKeyPem);
    await expect(loginWith(newKey.privateKeyPem)).rejects.toMatchObject({ code: '390144' });

    await exec(admin, `ALTER USER ${USER} SET RSA_PUBLIC_KEY_2 = '${body(newKey.publicKeyPem)}'`);
    // Both keys work now.
    await loginWith(oldKey.privateKeyPem);
    const fresh = await loginWith(newKey.privateKeyPem);

    await exec(fresh, `alter user if exists "${USER.toUpperCase()}" unset rsa_public_key;`);
    await expect(loginWith(oldKey.privateKeyPem)).rejects.toMatchObject({ code: '390144' });
    await loginWith(newKey.privateKeyPem);
    // A session opened with the old key stays valid, as in Snowflake.
    expect((await exec(admin, 'SELECT 1 AS ONE')).rows).toEqual([{ ONE: 1 }]);
  });

  it('refuses another user and a value that is not a key, changing nothing', async () => {
    const conn = await loginWith(newKey.privateKeyPem);
    expect(await execError(conn, `ALTER USER SOMEONE_ELSE UNSET RSA_PUBLIC_KEY_2`)).toMatchObject({ code: '002043' });
    expect(await execError(conn, `ALTER USER ${USER} SET RSA_PUBLIC_KEY = 'bm90IGEga2V5'`)).toMatchObject({ code: '002018' });
    await loginWith(newKey.privateKeyPem);
  });
});

describe('parseAlterUserKey', () => {
  it.each([
    [`ALTER USER svc SET RSA_PUBLIC_KEY_2 = 'QUJD'`, { user: 'SVC', slot: 2, pem: '-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----\n' }],
    [`alter user "Mixed" unset rsa_public_key;`, { user: 'Mixed', slot: 1, pem: undefined }],
    [`ALTER USER svc SET RSA_PUBLIC_KEY_FP = 'x'`, undefined],
    [`ALTER USER svc SET DEFAULT_ROLE = R`, undefined],
    [`ALTER SESSION SET TIMEZONE = 'UTC'`, undefined],
  ])('%s', (sql, expected) => {
    expect(parseAlterUserKey(sql)).toEqual(expected);
  });
});
