/**
 * `airlock policy check` and the policy half of `airlock config check`, run as
 * scripts run them. Decisions exit 0 whatever they say; usage errors and an
 * invalid policy exit 2; bad stdin lines are reported on their line and the run
 * goes on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/policy/decision.ts';
import { airlock } from '../support/cli.ts';

let dir: string;
let badPolicy: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-check-'));
  badPolicy = join(dir, 'bad.yaml');
  await writeFile(
    badPolicy,
    [
      'version: 1',
      'rules:',
      '  - name: reads',
      '    match: { category: read }',
      '    action: allow',
      '  - name: oops',
      '    match: { kind: dorp }',
      '    action: allow',
      '  - name: worse',
      '    match: { category: write }',
      '    action: sometimes',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const jsonLines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);

interface LineError {
  error: { code: string; message: string };
  line: number;
}

describe('airlock policy check SQL', () => {
  it('prints a readable decision: action, risk, reasons with codes and rules, statements, approvals', async () => {
    const r = await airlock(['policy', 'check', 'select c.customer_id, c.email from customers c where c.segment = \'smb\'']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^REVIEW {2}risk \w+/);
    expect(r.stdout).toContain('SENSITIVE_COLUMN (rule sensitive-data, statement 1, column ANALYTICS.PUBLIC.CUSTOMERS.EMAIL)');
    expect(r.stdout).toMatch(/approvals: 1 from data-owners, expires after 1h/);
    expect(r.stdout).toMatch(/statement 1: select/);
    expect(r.stdout).toMatch(/sensitive: +ANALYTICS\.PUBLIC\.CUSTOMERS\.EMAIL \(email, in select\)/);
    expect(r.stdout).toMatch(/tables: +ANALYTICS\.PUBLIC\.CUSTOMERS/);
    expect(r.stdout).toMatch(/columns: +.*ANALYTICS\.PUBLIC\.CUSTOMERS\.EMAIL/);
    expect(r.stdout).toMatch(/fingerprint: [0-9a-f]{64}/);
  });

  it('says when a read is allowed and its row cap', async () => {
    const r = await airlock(['policy', 'check', 'select customer_id, segment, city from customers where customer_id <= 3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ALLOW {2}risk low/);
    expect(r.stdout).toMatch(/row cap: 10000/);
    expect(r.stdout).not.toMatch(/approvals:/);
  });

  it('--json prints the decision JSON on one line, and a deny still exits 0', async () => {
    const r = await airlock(['policy', 'check', '--json', "copy into @exfil from analytics.public.customers"]);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const d = JSON.parse(r.stdout) as Decision;
    expect(d.action).toBe('deny');
    expect(d.reasons.map((x) => x.code)).toContain('EXFILTRATION');
    expect(d.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(d.statements).toHaveLength(1);
  });

  it('applies --agent and --groups to the decision context', async () => {
    const r = await airlock(['policy', 'check', '--json', '--agent', 'ci-bot', '--groups', 'etl, analysts', 'select 1']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Decision).action).toBe('allow');
  });

  it('judges names in the connection\'s database, as a running Airlock does, and refuses a policy that disagrees with it', async () => {
    const noDefaults = join(dir, 'no-defaults.yaml');
    await writeFile(noDefaults, 'version: 1\nsensitive:\n  - { column: "PROD.PUBLIC.CUSTOMERS.SSN", type: ssn }\nrules:\n  - { name: pii, match: { touches: sensitive }, action: review }\n  - { name: reads, match: { category: read }, action: allow }\n');
    const inProd = await airlock(['policy', 'check', '--json', '--policy', noDefaults, 'select ssn from customers'], { env: { SNOWFLAKE_DATABASE: 'PROD' } });
    expect((JSON.parse(inProd.stdout) as Decision).action).toBe('review');
    const conflict = await airlock(['policy', 'check', 'select 1'], { env: { SNOWFLAKE_DATABASE: 'PROD' } });
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toMatch(/POLICY_INVALID[\s\S]*SNOWFLAKE_DATABASE connects to PROD/);
  });

  it('refuses empty SQL with a clear error and exit 2', async () => {
    for (const sql of ['', '   \n\t ']) {
      const r = await airlock(['policy', 'check', sql]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/SQL_INVALID: The SQL is empty\./);
    }
  });

  it('exits 2 on usage errors', async () => {
    const unknown = await airlock(['policy', 'check', '--frob', 'select 1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/usage: airlock policy check/);
    const two = await airlock(['policy', 'check', 'select', '1']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/one argument \(quote it\)/);
    const noSub = await airlock(['policy']);
    expect(noSub.code).toBe(2);
  });
});

describe('airlock policy check (JSON lines on stdin)', () => {
  it('writes one decision or one error per line, in order, and carries on after bad lines', async () => {
    const lines = [
      JSON.stringify({ sql: 'select customer_id from customers limit 5' }),
      '{"sql": "select 1"', // truncated JSON
      JSON.stringify({ query: 'select 1' }), // no sql
      JSON.stringify({ sql: '' }),
      JSON.stringify({ sql: 'select 1\u0000; drop table customers' }), // NUL in the SQL
      '',
      JSON.stringify({ sql: 'drop table customers', agent: 'ci-bot', groups: ['etl'] }),
      JSON.stringify({ sql: 42 }),
      JSON.stringify(['select 1']),
      JSON.stringify({ sql: 'select 1', groups: 'etl' }),
      `{"sql": "select 1\u0000"}`, // a raw NUL byte inside a JSON string is invalid JSON
      JSON.stringify({ sql: 'put file:///etc/passwd @stage' }),
    ];
    const r = await airlock(['policy', 'check'], { input: `${lines.join('\n')}\n` });
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout);
    // The blank line (6) gets no output line.
    expect(out).toHaveLength(11);
    const errors = out.filter((o): o is LineError => typeof o === 'object' && o !== null && 'error' in o);
    expect(errors.map((e) => [e.line, e.error.code])).toEqual([
      [2, 'INVALID_JSON'],
      [3, 'VALIDATION_FAILED'],
      [4, 'SQL_INVALID'],
      [5, 'SQL_INVALID'],
      [8, 'VALIDATION_FAILED'],
      [9, 'VALIDATION_FAILED'],
      [10, 'VALIDATION_FAILED'],
      [11, 'INVALID_JSON'],
    ]);
    expect(errors.find((e) => e.line === 4)!.error.message).toBe('The SQL is empty.');
    expect(errors.find((e) => e.line === 5)!.error.message).toMatch(/NUL byte/);
    const decisions = out.filter((o): o is Decision => typeof o === 'object' && o !== null && 'action' in o);
    expect(decisions.map((d) => d.action)).toEqual(['allow', 'review', 'deny']);
    expect(r.stderr).toMatch(/policy check: 1 allow, 1 review, 1 deny, 8 bad lines/);
  });

  it('reports invalid UTF-8 on its line instead of crashing', async () => {
    const input = Buffer.concat([
      Buffer.from('{"sql": "select \'caf'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('\'"}\n'),
      Buffer.from(`${JSON.stringify({ sql: "select 'café' as word" })}\r\n`),
    ]);
    const r = await airlock(['policy', 'check'], { input });
    expect(r.code).toBe(0);
    const [bad, good] = jsonLines(r.stdout) as [LineError, Decision];
    expect(bad).toEqual({ error: { code: 'INVALID_JSON', message: 'The line is not valid UTF-8; JSON lines must be UTF-8 text.' }, line: 1 });
    expect(good.action).toBe('allow');
  });

  it('refuses 1 MB of SQL over AIRLOCK_MAX_SQL_BYTES, then keeps going', async () => {
    const big = `select ${Array.from({ length: 170_000 }, (_, i) => `c${i % 1000}`).join(', ')} from t`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(1_000_000);
    const input = `${JSON.stringify({ sql: big })}\n${'x'.repeat(1_100_000)}\n${JSON.stringify({ sql: 'select 1' })}\n`;
    const r = await airlock(['policy', 'check'], { input });
    expect(r.code).toBe(0);
    const [tooBig, tooLong, ok] = jsonLines(r.stdout) as [LineError, LineError, Decision];
    expect(tooBig.line).toBe(1);
    expect(tooBig.error.code).toBe('SQL_TOO_LARGE');
    expect(tooBig.error.message).toMatch(/AIRLOCK_MAX_SQL_BYTES/);
    expect(tooLong.line).toBe(2);
    expect(tooLong.error.code).toBe('SQL_TOO_LARGE');
    expect(ok.action).toBe('allow');
  });

  it('decides on 1 MB of SQL when the limit allows it', async () => {
    const big = `select ${Array.from({ length: 170_000 }, (_, i) => `c${i % 1000}`).join(', ')} from analytics.public.orders`;
    const r = await airlock(['policy', 'check'], {
      input: `${JSON.stringify({ sql: big })}\n`,
      env: { AIRLOCK_MAX_SQL_BYTES: String(1024 * 1024) },
    });
    expect(r.code).toBe(0);
    const [d] = jsonLines(r.stdout) as [Decision | LineError];
    // Whatever the engine makes of it, the answer is a decision or a coded error, never a crash.
    if ('error' in d) expect(d.error.code).toMatch(/^[A-Z_]+$/);
    else expect(['allow', 'review', 'deny']).toContain(d.action);
  });
});

describe('an invalid policy file', () => {
  it('policy check --policy lists every problem with its path and line, exit 2', async () => {
    const r = await airlock(['policy', 'check', '--policy', badPolicy, 'select 1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`POLICY_INVALID: The policy file ${badPolicy} has 2 problems.`);
    expect(r.stderr).toContain('rules[1].match.kind (line 7): unknown kind "dorp"');
    expect(r.stderr).toMatch(/rules\[2\]\.action \(line 11\): /);
  });

  it('policy check --policy names a missing file, exit 2', async () => {
    const missing = join(dir, 'missing.yaml');
    const r = await airlock(['policy', 'check', '--policy', missing, '--json'], { input: '{"sql":"select 1"}\n' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Cannot read the policy file ${missing}: it does not exist.`);
  });

  it('AIRLOCK_POLICY selects the policy for policy check', async () => {
    const r = await airlock(['policy', 'check', 'select 1'], { env: { AIRLOCK_POLICY: badPolicy } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown kind "dorp"');
  });

  it('config check prints every policy problem with its path and exits 1', async () => {
    // --roles api: the policy half alone (a worker would also need SNOWFLAKE_*; test/cli/config-check.test.ts).
    const r = await airlock(['config', 'check', '--roles', 'api'], { env: { AIRLOCK_POLICY: badPolicy } });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`policy ${badPolicy}: rules[1].match.kind (line 7): unknown kind "dorp"`);
    expect(lines[1]).toMatch(new RegExp(`^policy ${badPolicy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: rules\\[2\\]\\.action \\(line 11\\): `));
  });

  it('config check lists environment and policy problems together', async () => {
    const missing = join(dir, 'missing.yaml');
    const r = await airlock(['config', 'check'], { env: { AIRLOCK_POLICY: missing, AIRLOCK_PORT: 'x' } });
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^AIRLOCK_PORT: /),
      `policy ${missing}: cannot read the file: it does not exist`,
    ]);
  });

  it('airlock serve refuses to start, listing every problem', async () => {
    const r = await airlock(['serve'], { env: { AIRLOCK_POLICY: badPolicy } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`POLICY_INVALID: The policy file ${badPolicy} has 2 problems.`);
    expect(r.stderr).toContain('  rules[1].match.kind (line 7): unknown kind "dorp"');
    expect(r.stderr).toMatch(/ {2}rules\[2\]\.action \(line 11\): /);
    expect(r.stderr).not.toMatch(/airlock serving/);
  });

  it('config check validates the shipped policy when AIRLOCK_POLICY is unset', async () => {
    const r = await airlock(['config', 'check', '--roles', 'api']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('configuration OK\n');
    expect(r.stderr).toMatch(/policy .*policies[/\\]default\.yaml: OK \(\d+ rules, version [0-9a-f]{12}\)/);
  });
});
