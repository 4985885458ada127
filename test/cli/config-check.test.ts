/**
 * `airlock config check` per role: what `airlock serve` would refuse at
 * start-up is a problem (exit 1), found without starting anything. The CLI
 * runs as scripts run it; key files are real PEM files on disk.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airlock } from '../support/cli.ts';

let dir: string;
const SNOWFLAKE = () => ({ SNOWFLAKE_ACCOUNT: 'myorg-acct', SNOWFLAKE_USER: 'AIRLOCK_SVC', SNOWFLAKE_PRIVATE_KEY_PATH: join(dir, 'key.p8') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-config-check-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'key.p8'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  await writeFile(join(dir, 'not-a-key.p8'), 'hello\n', { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each case starts the CLI (tsx, and for the worker snowflake-sdk) once or twice: slow on a busy machine.
describe('airlock config check, per role', { timeout: 120_000 }, () => {
  it('an empty environment is not enough for the default roles: the worker needs Snowflake', async () => {
    const r = await airlock(['config', 'check']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      'worker role: SNOWFLAKE_ACCOUNT: required by the worker role',
      'worker role: SNOWFLAKE_USER: required by the worker role',
      'worker role: SNOWFLAKE_PRIVATE_KEY_PATH: required by the worker role',
    ]);
    expect(r.stderr).toMatch(/roles api,worker \(what `airlock serve` runs by default/);
  });

  it('a worker whose key file loads is OK; one whose key file is not a key is refused, as serve would', async () => {
    const ok = await airlock(['config', 'check', '--roles', 'worker'], { env: SNOWFLAKE() });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('configuration OK\n');
    expect(ok.stderr).toMatch(/worker: OK \(Snowflake AIRLOCK_SVC@myorg-acct/);
    expect(ok.stderr).toMatch(/worker: warning: AIRLOCK_MASKING_KEY is unset/);

    const bad = await airlock(['config', 'check', '--roles', 'worker'], { env: { ...SNOWFLAKE(), SNOWFLAKE_PRIVATE_KEY_PATH: join(dir, 'not-a-key.p8') } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^worker role: SNOWFLAKE_PRIVATE_KEY_PATH: /);
  });

  it('Slack half configured is refused on the role that needs the missing part', async () => {
    const r = await airlock(['config', 'check', '--roles', 'api,slack'], { env: { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APPROVAL_CHANNEL: 'C0123456789' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^slack role: SLACK_BOT_TOKEN is set, so Slack is on; also set SLACK_SIGNING_SECRET or SLACK_APP_TOKEN/);
  });

  it('a connection database other than the policy default database is refused: names would be judged in one and run in the other', async () => {
    const r = await airlock(['config', 'check', '--roles', 'api'], { env: { SNOWFLAKE_DATABASE: 'PROD' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/defaults\.database.*ANALYTICS but SNOWFLAKE_DATABASE connects to PROD/);
    const agree = await airlock(['config', 'check', '--roles', 'api'], { env: { SNOWFLAKE_DATABASE: 'analytics' } });
    expect(agree.code).toBe(0);
  });

  it('an unknown role is a usage error', async () => {
    const r = await airlock(['config', 'check', '--roles', 'api,nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown role\(s\): nope/);
  });
});
