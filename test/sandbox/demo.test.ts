/**
 * `npm run demo` against a real `airlock dev` (Redis, the emulator, the dev
 * issuer, the sandbox): the scripted agent submits its five statements while
 * sandbox members decide through /sandbox/act — the same signed requests the
 * page sends — and the agent's printed view shows every path. Also the
 * sandbox's own doors: its Web API wants its bot token, /sandbox/act JSON
 * from a sandbox member.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STEPS, runDemo } from '../../src/cli/commands/demo.ts';
import { SANDBOX_OWNER_EMAIL } from '../../src/sandbox/roster.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

let suite: DevSuite;

beforeAll(async () => {
  suite = await startDevSuite({ prefix: uniquePrefix('sandbox-demo') });
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

/** The card (its ts and query id) whose SQL contains `sql`, once the sandbox shows it. */
async function cardFor(sql: string): Promise<{ ts: string; id: string }> {
  return until(`a card for ${sql}`, () => {
    for (const [ts, m] of suite.env.sandbox!.workspace.messages) {
      if (m.thread_ts || !JSON.stringify(m.blocks).includes(sql)) continue;
      const actions = (m.blocks as Array<{ type: string; elements?: Array<{ value?: string }> }>).find((b) => b.type === 'actions');
      const id = actions?.elements?.[0]?.value;
      if (id) return { ts, id };
    }
    return undefined;
  }, 20_000);
}

/** A click on the page's Approve button as `user`. */
async function approve(user: string, card: { ts: string; id: string }): Promise<void> {
  const res = await fetch(`${suite.env.sandbox!.url}/act`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'button', user, ts: card.ts, actionId: 'airlock_approve', value: card.id }),
  });
  expect(await res.json()).toEqual({ status: 200 });
}

describe('npm run demo', () => {
  it('shows the agent every path: allowed, approved and masked, two approvals, refused by policy, a typo', async () => {
    const lines: string[] = [];
    const token = await suite.env.mintToken({ agent: 'demo-agent', owner: SANDBOX_OWNER_EMAIL, groups: ['analysts'] });
    const run = runDemo({ apiUrl: suite.env.apiUrl, token, sandboxUrl: suite.env.sandbox!.url, waitSeconds: 60, out: (l) => lines.push(l) });

    const pii = await cardFor(DEMO_STEPS[1]!.sql);
    const drop = await cardFor(DEMO_STEPS[2]!.sql);
    await approve('U0SBALICE', pii);
    await approve('U0SBALICE', drop);
    await approve('U0SBBOB', drop);
    const report = await run;

    expect(report.slice(0, 3)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(report[3]).toBe('POLICY_DENIED');
    expect(report[4]).not.toMatch(/pending|succeeded/);
    const text = lines.join('\n');
    expect(text).toContain('← 200 succeeded · allow, low risk · 3 row(s)');
    expect(text).toContain('← 202 pending_approval · review, medium risk · needs 1 approval(s) from data-owners');
    expect(text).toMatch(/approved by alice · 3 row\(s\) · masked: .*SSN/);
    expect(text).toContain('needs 2 approval(s) from data-owners');
    expect(text).toContain('approved by alice, bob');
    expect(text).toContain('← 403 POLICY_DENIED');
    // Masked: no demo SSN reaches the agent's screen.
    expect(text).not.toMatch(/\b\d{3}-\d{2}-\d{4}\b/);
  }, 90_000);

  it('the sandbox takes Web API calls only with its own bot token, and actions only as JSON from a sandbox member', async () => {
    const sandbox = suite.env.sandbox!;
    const api = (token: string) =>
      fetch(`${sandbox.url}/api/users.info`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=U0SBDANA' }).then((r) => r.json());
    expect(await api('xoxb-someone-else')).toEqual({ ok: false, error: 'invalid_auth' });
    const dana = await api(sandbox.slackEnv.SLACK_BOT_TOKEN);
    expect(dana).toMatchObject({ ok: true, user: { id: 'U0SBDANA', profile: { email: SANDBOX_OWNER_EMAIL } } });

    const form = await fetch(`${sandbox.url}/act`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'kind=command&user=U0SBSAM&text=pending' });
    expect(form.status).toBe(415);
    const stranger = await fetch(`${sandbox.url}/act`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'command', user: 'U0MALLORY', text: '/airlock pending' }) });
    expect(stranger.status).toBe(400);
    expect(((await stranger.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });
});
