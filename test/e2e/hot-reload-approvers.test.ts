/**
 * A policy edit reaches approvals on a running process: who may vote is read
 * from the policy in force when the vote arrives. The api and slack roles run
 * with AIRLOCK_POLICY pointing at a file (real Redis, dev OIDC issuer, signed
 * Slack clicks against the fake Web API); the file gains an approver while a
 * query waits for review, and that person's click, refused before, now counts.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/schema.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { shippedPolicyText } from '../support/policies.ts';
import { cleanupPrefix, uniquePrefix } from '../support/redis.ts';
import { startHarness, type Harness } from '../support/slack-harness.ts';
import { until } from '../support/until.ts';

const prefix = uniquePrefix('reload-approvers');
let dir: string;
let file: string;
let slack: FakeSlack;
let h: Harness;

/** Replace the policy file in one step, as `mv` or a ConfigMap update does. */
async function publish(text: string): Promise<string> {
  await writeFile(`${file}.next`, text);
  await rename(`${file}.next`, file);
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy.version;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-reload-approvers-'));
  file = join(dir, 'policy.yaml');
  await publish(await shippedPolicyText({ dataOwners: { users: ['U0ALICE'] } }));
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  slack.setUser('U0BOB', { email: 'bob@example.com', name: 'bob' });
  h = await startHarness({ slack, prefix, approvers: { users: [] }, policyFile: file, env: { AIRLOCK_RELOAD_POLL_SECONDS: '1' } });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await slack?.close();
  await cleanupPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

describe('approver groups after a policy edit', () => {
  it('counts a vote from a person the edited policy made an approver', async () => {
    const token = await h.token('owner@example.com');
    const submitted = await h.submit(token, 'SELECT SSN FROM ANALYTICS.PUBLIC.CUSTOMERS LIMIT 1');
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    const id: string = submitted.json.id;
    const card = await h.cardOf(id);

    const before = Date.now();
    expect(await h.click('U0BOB', id, card)).toBe(200);
    const refusal = await until('the refusal', () => slack.ephemerals.find((e) => e.user === 'U0BOB' && e.at >= before));
    expect(refusal.text).toMatch(/not an approver/i);
    expect((await h.view(token, id)).approval.votes).toEqual([]);

    const edited = await publish(await shippedPolicyText({ dataOwners: { users: ['U0ALICE', 'U0BOB'] } }));
    await until('the new policy in force', async () => (await (await fetch(`${h.url}/metrics`)).text()).includes(`version="${edited}"`));

    expect(await h.click('U0BOB', id, card)).toBe(200);
    const done = await until('Bob\'s vote to count', async () => {
      const view = await h.view(token, id);
      return view.status !== 'pending_approval' ? view : undefined;
    });
    expect(done.approval.votes).toEqual([expect.objectContaining({ vote: 'approve', by: 'u0bob' })]);
    expect(['approved', 'queued', 'running', 'succeeded', 'failed']).toContain(done.status);
  });
});
