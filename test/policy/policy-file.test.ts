/**
 * Loading the policy file from disk: unreadable files, YAML syntax errors and
 * schema errors all become POLICY_INVALID with every problem, its path and line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY_PATH,
  formatPolicyProblem,
  formatPolicyProblems,
  loadConfiguredPolicy,
  loadPolicyFile,
  policyPathFrom,
  policyProblemsOf,
} from '../../src/config/policy-file.ts';
import { AirlockError, isAirlockError } from '../../src/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** The POLICY_INVALID error a load throws (fails the test when it does not throw one). */
async function failure(path: string): Promise<AirlockError> {
  const err = await loadPolicyFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAirlockError(err, 'POLICY_INVALID')) throw new Error(`expected POLICY_INVALID, got ${String(err)}`);
  return err;
}

const SCHEMA_ERRORS = `version: 1
defaults:
  action: maybe
rules:
  - name: one
    match: { category: read }
    action: allow
  - name: two
    match: { kind: select }
    action: nope
  - name: three
    match: {}
    action: review
  - name: four
    match: { kind: dorp }
    action: deny
    colour: red
`;

describe('loadPolicyFile', () => {
  it('loads the shipped default policy, from a path next to src/ and dist/', async () => {
    expect(DEFAULT_POLICY_PATH).toMatch(/[/\\]policies[/\\]default\.yaml$/);
    expect(existsSync(DEFAULT_POLICY_PATH)).toBe(true);
    const policy = await loadPolicyFile();
    expect(policy.version).toMatch(/^[0-9a-f]{64}$/);
    expect(policy.file.rules.length).toBeGreaterThan(5);
    expect(policy.file.defaults.action).toBe('review');
  });

  it('is deterministic: the same file gives the same version', async () => {
    const a = await loadPolicyFile(DEFAULT_POLICY_PATH);
    const b = await loadPolicyFile(DEFAULT_POLICY_PATH);
    expect(a.version).toBe(b.version);
  });

  it('names the path of a missing file', async () => {
    const path = join(dir, 'nope.yaml');
    const err = await failure(path);
    expect(err.message).toBe(`Cannot read the policy file ${path}: it does not exist.`);
    expect(err.details.file).toBe(path);
    expect(policyProblemsOf(err)).toHaveLength(1);
  });

  it('refuses a directory with a clear sentence', async () => {
    const err = await failure(dir);
    expect(err.message).toBe(`Cannot read the policy file ${dir}: it is a directory.`);
  });

  it('reports a YAML syntax error with its line', async () => {
    const path = await file('syntax.yaml', 'version: 1\nrules:\n  - name: a\n    match: { kind: select\n    action: allow\n');
    const err = await failure(path);
    const problems = policyProblemsOf(err);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.message).toMatch(/^YAML: /);
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('reports every schema problem with its path and line, in one error', async () => {
    const path = await file('schema.yaml', SCHEMA_ERRORS);
    const err = await failure(path);
    expect(err.message).toBe(`The policy file ${path} has 5 problems.`);
    expect(formatPolicyProblems(policyProblemsOf(err)).sort()).toEqual(
      [
        'defaults.action (line 3): Invalid option: expected one of "allow"|"review"|"deny"',
        'rules[1].action (line 10): Invalid option: expected one of "allow"|"review"|"deny"',
        'rules[2].match (line 12): an empty match would match everything; name at least one condition',
        'rules[3].match.kind (line 15): unknown kind "dorp"',
        'rules[3] (line 14): Unrecognized key: "colour"',
      ].sort(),
    );
  });

  it('reports cross-field problems (duplicate names, unknown approver groups)', async () => {
    const path = await file(
      'cross.yaml',
      'version: 1\nrules:\n  - name: a\n    match: { kind: select }\n    action: allow\n  - name: a\n    match: { kind: insert }\n    action: review\n    approvals: { from: [nobody] }\n',
    );
    const problems = policyProblemsOf(await failure(path));
    expect(problems.map((p) => p.path)).toEqual(['rules[1].name', 'rules[1].approvals.from[0]']);
  });

  it('refuses a file that is not UTF-8 text', async () => {
    const path = await file('latin1.yaml', Buffer.from([0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect(formatPolicyProblems(policyProblemsOf(await failure(path)))).toEqual(['the file is not valid UTF-8 text']);
  });

  it('refuses an empty file', async () => {
    const path = await file('empty.yaml', '');
    expect(policyProblemsOf(await failure(path)).length).toBeGreaterThan(0);
  });
});

describe('loadConfiguredPolicy', () => {
  it('uses AIRLOCK_POLICY when set, else the shipped default', async () => {
    expect(policyPathFrom({})).toBe(DEFAULT_POLICY_PATH);
    expect(policyPathFrom({ AIRLOCK_POLICY: '/etc/airlock/policy.yaml' })).toBe('/etc/airlock/policy.yaml');
    const path = await file('custom.yaml', 'version: 1\nrules:\n  - name: reads\n    match: { category: read }\n    action: allow\n');
    const custom = await loadConfiguredPolicy({ AIRLOCK_POLICY: path });
    expect(custom.file.rules.map((r) => r.name)).toEqual(['reads']);
    expect((await loadConfiguredPolicy({})).version).toBe((await loadPolicyFile()).version);
  });

  it('stops start-up on an invalid policy with every problem attached', async () => {
    const path = await file('startup.yaml', SCHEMA_ERRORS);
    const err = await loadConfiguredPolicy({ AIRLOCK_POLICY: path }).catch((e: unknown) => e);
    expect(isAirlockError(err, 'POLICY_INVALID')).toBe(true);
    expect(policyProblemsOf(err)).toHaveLength(5);
  });
});

describe('formatPolicyProblem', () => {
  it.each([
    [{ path: 'rules[3].match.kind', message: 'unknown kind "dorp"', line: 42 }, 'rules[3].match.kind (line 42): unknown kind "dorp"'],
    [{ path: 'rules[3].match.kind', message: 'unknown kind "dorp"' }, 'rules[3].match.kind: unknown kind "dorp"'],
    [{ path: '', message: 'YAML: bad indentation', line: 7 }, 'line 7: YAML: bad indentation'],
    [{ path: '', message: 'cannot read the file: it does not exist' }, 'cannot read the file: it does not exist'],
  ])('%j → %s', (problem, text) => {
    expect(formatPolicyProblem(problem)).toBe(text);
  });

  it('ignores errors that carry no policy problems', () => {
    expect(policyProblemsOf(new Error('x'))).toEqual([]);
    expect(policyProblemsOf(new AirlockError('CONFIG_INVALID', 'x', { details: { problems: [{ variable: 'A', message: 'b' }] } }))).toEqual([]);
  });
});
