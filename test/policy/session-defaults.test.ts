/**
 * The policy judges unqualified names in the database and schema the
 * warehouse connection runs them in (src/policy/session-defaults.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { livePolicy } from '../../src/app/live-policy.ts';
import { createLogger } from '../../src/log.ts';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy, type ParsedPolicy } from '../../src/policy/schema.ts';
import { sessionDefaultProblems, withSessionDefaults } from '../../src/policy/session-defaults.ts';

function policy(defaults: string): ParsedPolicy {
  const parsed = parsePolicy(`version: 1
${defaults}
sensitive:
  - { column: "PROD.PUBLIC.CUSTOMERS.SSN", type: ssn }
rules:
  - { name: pii-needs-review, match: { touches: sensitive }, action: review }
  - { name: reads, match: { category: read }, action: allow }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy;
}

describe('session defaults', () => {
  it('a policy without defaults judges unqualified names where the connection runs them', () => {
    const bare = policy('');
    // Without the connection's names the SSN read resolves to ANALYTICS.PUBLIC and slips past the PROD rule.
    expect(createPolicyEngine(bare).evaluate('select ssn from customers').action).toBe('allow');
    const effective = withSessionDefaults(bare, { database: 'prod', schema: 'public' });
    expect(effective.file.defaults).toMatchObject({ database: 'prod', schema: 'public' });
    expect(effective.version).not.toBe(bare.version);
    const decision = createPolicyEngine(effective).evaluate('select ssn from customers');
    expect(decision.action).toBe('review');
    expect(decision.policy?.version).toBe(effective.version);
  });

  it('a policy that names its own defaults keeps them, and agreeing names are no problem', () => {
    const own = policy('defaults: { database: PROD, schema: PUBLIC }');
    expect(sessionDefaultProblems(own, { database: 'prod', schema: 'Public' })).toEqual([]);
    expect(withSessionDefaults(own, { database: 'prod' })).toBe(own);
    expect(sessionDefaultProblems(own, {})).toEqual([]);
  });

  it('a policy and a connection naming different databases or schemas are refused, each part named', () => {
    const own = policy('defaults: { database: ANALYTICS, schema: PUBLIC }');
    const problems = sessionDefaultProblems(own, { database: 'PROD', schema: 'SALES' });
    expect(problems.map((p) => p.path)).toEqual(['defaults.database', 'defaults.schema']);
    expect(problems[0]!.message).toContain('SNOWFLAKE_DATABASE connects to PROD');
    expect(problems[1]!.message).toContain('SNOWFLAKE_SCHEMA connects to SALES');
  });

  it('quoted names compare exactly, unquoted ones case-insensitively', () => {
    const quoted = policy('defaults: { database: \'"Prod"\' }');
    expect(sessionDefaultProblems(quoted, { database: '"Prod"' })).toEqual([]);
    expect(sessionDefaultProblems(quoted, { database: 'prod' })).toHaveLength(1);
  });
});

describe('the policy a process holds', () => {
  const logger = createLogger({ level: 'silent' });

  it('a process whose connection names another database than its policy does not start', () => {
    const own = policy('defaults: { database: ANALYTICS, schema: PUBLIC }');
    expect(() => livePolicy(own, { logger, pollMs: 0, session: { database: 'PROD' } })).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
    const live = livePolicy(policy(''), { logger, pollMs: 0, session: { database: 'PROD', schema: 'PUBLIC' } });
    expect(live.engine.evaluate('select ssn from customers').action).toBe('review');
    live.close();
  });

  it('a reload to a policy that disagrees with the connection is rejected and the policy in force stays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-session-defaults-'));
    try {
      const file = join(dir, 'policy.yaml');
      const first = policy('');
      const live = livePolicy(first, { logger, file, pollMs: 0, session: { database: 'PROD', schema: 'PUBLIC' } });
      const before = live.current.version;
      await writeFile(file, 'version: 1\ndefaults: { database: ANALYTICS }\nrules:\n  - { name: reads, match: { category: read }, action: allow }\n');
      await live.check();
      expect(live.current.version).toBe(before);
      expect(live.engine.evaluate('select ssn from customers').action).toBe('review');
      live.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
