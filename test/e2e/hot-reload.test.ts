/**
 * Hot reload with real processes: `airlock serve --roles api` and `airlock
 * serve --roles worker` as child processes on the real Redis, the worker on
 * the real snowflake-sdk against the emulator by key pair. An in-process API
 * on the same prefix (token check replaced: the child API has no OIDC issuer
 * it could trust over http, so it is watched through /metrics and its log)
 * takes the submits, so what the child worker masks and how decisions change
 * can be read back.
 *
 * The policy file is laid out as a Kubernetes ConfigMap volume is (`..data`
 * symlink to a timestamped directory, the file a symlink through it) and
 * changed the way the kubelet changes it: a new directory and an atomic
 * rename of the `..data` link. Polling is off in the children, so only the
 * directory watch can notice.
 */
import { createPublicKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snowflake, { type ConnectionOptions } from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig } from '../../src/config/env.ts';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { publicKeyFingerprint } from '../../src/emulator/auth.ts';
import { createLogger } from '../../src/log.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { rsaKeyPair } from '../emulator/wire-helpers.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/until.ts';

snowflake.configure({ logLevel: 'OFF', additionalLogToConsole: false });

const ACCOUNT = 'EMU';
const USER = 'AIRLOCK_SVC';
const prefix = uniquePrefix('hot-reload');

const policyText = (name: string, extra = '') => `version: 1
name: ${name}
defaults: { database: ANALYTICS, schema: PUBLIC, action: review }
sensitive:
  - { column: "*.*.CUSTOMERS.EMAIL", type: email }
${extra}rules:
  - { name: no-orders, match: { tables: ["*.*.ORDERS"] }, action: deny }
  - { name: reads, match: { category: read }, action: allow }
`;
const V1 = policyText('reload-v1').replace('  - { name: no-orders, match: { tables: ["*.*.ORDERS"] }, action: deny }\n', '');
const V2 = policyText('reload-v2', 'masking: { strategies: { email: redact } }\n');
const BAD = `${V2}  - { name: typo, match: { kind: dorp }, action: deny }\n`;
const versionOf = (text: string) => {
  const r = parsePolicy(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy.version;
};

/** A key pair and the fingerprint Snowflake would show for it. */
function rsa() {
  const { publicKeyPem, privateKeyPem } = rsaKeyPair();
  return { publicPem: publicKeyPem, privatePem: privateKeyPem, fingerprint: publicKeyFingerprint(createPublicKey(publicKeyPem)) };
}
const oldKey = rsa();
const newKey = rsa();

let dir: string;
let policyDir: string;
let policyPath: string;
let keyPath: string;
let emulator: Emulator;
let intake: AirlockApp;
let agent: ApiClient;
let apiProcess: ServeProcess;
let workerProcess: ServeProcess;
let generation = 0;

/** Publish `text` the way the kubelet updates a ConfigMap volume: a new directory, then an atomic swap of `..data`. */
async function publishPolicy(text: string): Promise<void> {
  const stamp = `..${Date.now()}_${generation++}`;
  await mkdir(join(policyDir, stamp));
  await writeFile(join(policyDir, stamp, 'policy.yaml'), text);
  await symlink(stamp, join(policyDir, '..data_tmp'));
  await rename(join(policyDir, '..data_tmp'), join(policyDir, '..data'));
}

/** Replace the key file at once (write beside it, rename over it), as a Secret update or `mv` does. */
async function replaceKey(pem: string): Promise<void> {
  await writeFile(`${keyPath}.tmp`, pem, { mode: 0o600 });
  await rename(`${keyPath}.tmp`, keyPath);
}

async function metrics(p: ServeProcess): Promise<string> {
  return (await fetch(`${p.url}/metrics`)).text();
}

async function submit(sql: string): Promise<any> {
  const { json } = await agent('/v1/queries', { body: { sql, waitMs: 20_000 } });
  return json;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-hot-reload-'));
  policyDir = join(dir, 'policy');
  await mkdir(policyDir);
  await publishPolicy(V1);
  await symlink('..data/policy.yaml', join(policyDir, 'policy.yaml'));
  policyPath = join(policyDir, 'policy.yaml');
  await mkdir(join(dir, 'secret'));
  keyPath = join(dir, 'secret', 'snowflake.p8');
  await replaceKey(oldKey.privatePem);

  emulator = await startEmulator({ account: ACCOUNT, user: USER, publicKeyPem: oldKey.publicPem, port: 0, seed: 'demo' });
  const common = { REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_POLICY: policyPath, AIRLOCK_RELOAD_POLL_SECONDS: '0', AIRLOCK_LOG_LEVEL: 'info' };
  [workerProcess, apiProcess] = await Promise.all([
    startServe('worker', {
      ...common,
      SNOWFLAKE_ACCOUNT: ACCOUNT,
      SNOWFLAKE_USER: USER,
      SNOWFLAKE_PRIVATE_KEY_PATH: keyPath,
      SNOWFLAKE_ACCESS_URL: emulator.url,
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
    }),
    startServe('api', common),
  ]);
  // Polls once a second: the in-process intake also shows the fallback works.
  const config = loadConfig({ ...common, AIRLOCK_RELOAD_POLL_SECONDS: '1', AIRLOCK_PORT: '0' });
  intake = await buildApp(config, {
    roles: ['api'],
    logger: createLogger({ level: 'silent' }),
    // Stand-in for the OIDC check only; everything after it is the real API.
    authenticator: { verify: async () => ({ id: 'reload-agent', name: 'Reload Agent', owner: 'owner@example.com', groups: [], scopes: [] }) },
  });
  agent = apiClient((await intake.listen())!);
}, 120_000);

afterAll(async () => {
  await Promise.all([apiProcess?.stop(), workerProcess?.stop()]);
  await intake?.close();
  await emulator?.close();
  await cleanupPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('policy reload without a restart', () => {
  it('runs the first policy everywhere and records its version on the decision', async () => {
    const v1 = versionOf(V1);
    expect(await metrics(apiProcess)).toContain(`airlock_policy_info{name="reload-v1",version="${v1}"} 1`);
    expect(await metrics(workerProcess)).toContain(`version="${v1}"`);
    const done = await submit('SELECT EMAIL FROM CUSTOMERS ORDER BY CUSTOMER_ID LIMIT 3');
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.decision.policy).toEqual({ name: 'reload-v1', version: v1 });
    // email: partial masking keeps the domain.
    expect(done.result.rows.every((r: string[]) => String(r[0]).includes('@'))).toBe(true);
    const orders = await submit('SELECT ORDER_ID FROM ORDERS LIMIT 1');
    expect(orders.status).toBe('succeeded');
  }, 60_000);

  it('swaps in an edited policy on the running API and worker processes', async () => {
    const v2 = versionOf(V2);
    await publishPolicy(V2);
    await until('the API process to run v2', async () => (await metrics(apiProcess)).includes(`version="${v2}"`));
    await until('the worker process to run v2', async () => (await metrics(workerProcess)).includes(`version="${v2}"`));
    const line = await workerProcess.waitForLog('policy_reloaded', (l) => l.event === 'policy_reloaded');
    expect(line).toMatchObject({ component: 'policy', version: v2, previous: versionOf(V1), policy: 'reload-v2' });
    await until('the intake to run v2', async () => {
      const d = (await agent('/v1/policy/evaluate', { body: { sql: 'SELECT 1' } })).json;
      return d.policy?.version === v2;
    });

    // The new rule decides, and the decision, the record and the `decided` event name v2.
    const denied = await submit('SELECT ORDER_ID FROM ORDERS LIMIT 1');
    expect(denied.error?.code).toBe('POLICY_DENIED');
    expect(denied.decision.policy.version).toBe(v2);
    // The child worker masks by the new catalog: email now redacted whole.
    const done = await submit('SELECT EMAIL FROM CUSTOMERS ORDER BY CUSTOMER_ID LIMIT 3');
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.decision.policy.version).toBe(v2);
    expect(done.result.rows.some((r: string[]) => String(r[0]).includes('@'))).toBe(false);
    const record = (await agent(`/v1/queries/${done.id}`)).json;
    expect(record.decision.policy.version).toBe(v2);
    const session = (await agent(`/v1/sessions/${done.id}`)).json;
    const decided = session.events?.find((e: any) => e.type === 'decided');
    expect(decided?.data?.decision?.policy?.version, JSON.stringify(session).slice(0, 400)).toBe(v2);
  }, 60_000);

  it('rejects an invalid policy with one log line and keeps the one in force', async () => {
    const v2 = versionOf(V2);
    await publishPolicy(BAD);
    const [apiLine, workerLine] = await Promise.all([
      apiProcess.waitForLog('the API to reject', (l) => l.event === 'policy_reload_rejected'),
      workerProcess.waitForLog('the worker to reject', (l) => l.event === 'policy_reload_rejected'),
    ]);
    for (const line of [apiLine, workerLine]) {
      expect(line).toMatchObject({ component: 'policy', version: v2, file: policyPath });
      expect(JSON.stringify(line.problems)).toContain('dorp');
    }
    expect(await metrics(apiProcess)).toContain(`version="${v2}"`);
    expect(await metrics(workerProcess)).toContain(`version="${v2}"`);
    expect(apiProcess.logs().filter((l) => l.event === 'policy_reload_rejected')).toHaveLength(1);
    await publishPolicy(V2);
  }, 60_000);

  it('re-reads on SIGHUP a change the directory watch cannot see', async () => {
    // An edit inside the active timestamped directory changes nothing in the watched directory, and the children do not poll.
    const v2 = versionOf(V2);
    await until('the children back on v2', async () => (await metrics(apiProcess)).includes(`version="${v2}"`) && (await metrics(workerProcess)).includes(`version="${v2}"`));
    // Let the directory events of the last publish settle (100 ms), so no late re-read can pick up the edit below.
    await new Promise((r) => setTimeout(r, 1000));
    const V3 = V2.replace('name: reload-v2', 'name: reload-v3');
    await writeFile(await realpath(policyPath), V3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await metrics(apiProcess)).toContain(`version="${v2}"`);
    apiProcess.signal('SIGHUP');
    await until('the API process to run v3 after SIGHUP', async () => (await metrics(apiProcess)).includes(`version="${versionOf(V3)}"`));
    expect(await metrics(workerProcess)).toContain(`version="${v2}"`);
    await publishPolicy(V2);
  }, 60_000);
});

describe('Snowflake key rotation without a restart', () => {
  it('moves the running worker to the new key; the emulator then refuses the old one', async () => {
    expect(await metrics(workerProcess)).toContain(`airlock_snowflake_key_info{fingerprint="${oldKey.fingerprint}"} 1`);
    expect(emulator.keys.loginsWith(oldKey.fingerprint)).toBeGreaterThan(0);

    // 1. ALTER USER … SET RSA_PUBLIC_KEY_2 = '<new public key>'
    emulator.keys.setPublicKey(2, newKey.publicPem);
    // 2. The new private key replaces the file every worker reads.
    await replaceKey(newKey.privatePem);
    const line = await workerProcess.waitForLog('the key reload', (l) => l.event === 'snowflake_key_reloaded');
    expect(line).toMatchObject({ fingerprint: newKey.fingerprint, previous: oldKey.fingerprint });
    expect(await metrics(workerProcess)).toContain(`fingerprint="${newKey.fingerprint}"`);
    // 3. ALTER USER … UNSET RSA_PUBLIC_KEY: the old key stops working.
    emulator.keys.setPublicKey(1, undefined);

    const before = emulator.keys.loginsWith(newKey.fingerprint);
    const done = await submit('SELECT CUSTOMER_ID FROM CUSTOMERS ORDER BY CUSTOMER_ID LIMIT 2');
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(emulator.keys.loginsWith(newKey.fingerprint)).toBeGreaterThan(before);

    // The old key is refused now (390144), as Snowflake does once its slot is cleared.
    const conn = snowflake.createConnection({
      accessUrl: emulator.url,
      account: ACCOUNT,
      username: USER,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: oldKey.privatePem,
      sfRetryMaxLoginRetries: 0,
    } as ConnectionOptions);
    const refused = await new Promise<unknown>((resolve) => conn.connect((err) => resolve(err)));
    expect(refused).toMatchObject({ code: '390144' });
  }, 60_000);

  it('keeps the key in use when the file is replaced by something that is not a key', async () => {
    await replaceKey('not a key\n');
    const line = await workerProcess.waitForLog('the key rejection', (l) => l.event === 'snowflake_key_reload_rejected');
    expect(line).toMatchObject({ fingerprint: newKey.fingerprint });
    expect(JSON.stringify(workerProcess.logs())).not.toContain('PRIVATE KEY');
    const done = await submit('SELECT CUSTOMER_ID FROM CUSTOMERS ORDER BY CUSTOMER_ID LIMIT 1');
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(await readFile(keyPath, 'utf8')).toBe('not a key\n');
  }, 60_000);
});
