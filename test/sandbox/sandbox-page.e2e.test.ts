/**
 * The Slack sandbox in a real browser: `airlock dev` without SLACK_BOT_TOKEN
 * (real Redis, the emulator through snowflake-sdk, the dev OIDC issuer) and
 * its /sandbox page in headless Chromium. Every click on the page becomes a
 * signed request to Airlock's /slack/events, so the real receiver and the real
 * approval logic decide: the owner is refused, an outsider is refused, two
 * approvers release a DROP, the card finalises and the audit summary appears
 * in its thread; a deny's reason reaches the agent. Hostile SQL, prompts and
 * reasons stay text. Screenshots go to test/artifacts/run/ (not committed).
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_OWNER_EMAIL } from '../../src/sandbox/roster.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { launchChromium } from '../support/chromium.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { uniquePrefix } from '../support/redis.ts';

const SHOTS = 'test/artifacts/run';
const ALICE = 'U0SBALICE';
const BOB = 'U0SBBOB';
const DANA = 'U0SBDANA';
const OLLY = 'U0SBOLLY';
const SAM = 'U0SBSAM';

let suite: DevSuite;
let browser: Browser;
let page: Page;
let agent: ApiClient;
let sandboxUrl: string;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  suite = await startDevSuite({ prefix: uniquePrefix('sandbox-page') });
  sandboxUrl = suite.env.sandbox!.url;
  agent = apiClient(suite.env.apiUrl, await suite.env.mintToken({ agent: 'etl-bot', owner: SANDBOX_OWNER_EMAIL, groups: ['analysts'] }));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  await page.goto(sandboxUrl);
  await page.locator('#feed-status', { hasText: 'live' }).waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await suite?.close();
});

/** Submit as the agent; the query's id (it must wait for review). */
async function submit(sql: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await agent('/v1/queries', { body: { sql, ...extra } });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return res.json.id as string;
}

/** Act as a sandbox member (the switcher on the left). */
async function actAs(user: string): Promise<void> {
  await page.locator(`[data-user-id="${user}"]`).click();
  await page.locator(`[data-user-id="${user}"][aria-checked="true"]`).waitFor();
}

/** The card of a query in the channel (not a thread reply). */
const cardOf = (id: string) => page.locator('#messages article.message[data-ts]', { hasText: id });
/** The newest ephemeral the current user sees. */
const lastEphemeral = () => page.locator('#messages article.ephemeral').last();

describe('the sandbox page', () => {
  it('DROP: the owner is refused, an outsider too, two approvers release it, the card finalises and the thread summary appears', async () => {
    const id = await submit('drop table analytics.public.orders', { purpose: 'retire the old orders table' });
    await actAs(DANA);
    const card = cardOf(id);
    await card.locator('.bk-header', { hasText: 'DROP' }).waitFor();
    await expect(card.locator('.bk-header').textContent()).resolves.toMatch(/High risk .*approval needed/);
    await expect(card.textContent()).resolves.toContain('0 of 2');
    await page.screenshot({ path: `${SHOTS}/drop-card.png` });

    await card.getByRole('button', { name: 'Approve' }).click();
    await lastEphemeral().getByText('You own the agent that sent this query').waitFor();
    await page.screenshot({ path: `${SHOTS}/owner-refused.png` });

    await actAs(OLLY);
    await cardOf(id).getByRole('button', { name: 'Approve' }).click();
    await lastEphemeral().getByText('You are not an approver for this query').waitFor();

    await actAs(ALICE);
    await cardOf(id).getByRole('button', { name: 'Approve' }).click();
    await cardOf(id).getByText('1 of 2').waitFor();
    await expect(cardOf(id).textContent()).resolves.toContain('@Alice Approver approved');
    expect((await agent(`/v1/queries/${id}`)).json.status).toBe('pending_approval');

    await actAs(BOB);
    await cardOf(id).getByRole('button', { name: 'Approve' }).click();
    await cardOf(id).locator('.bk-header', { hasText: '— done' }).waitFor({ timeout: 20_000 });
    await expect(cardOf(id).locator('.bk-actions').count()).resolves.toBe(0);
    await expect(cardOf(id).textContent()).resolves.toMatch(/Approved by @Alice Approver, @Bob Approver/);

    await cardOf(id).locator('button.replies').waitFor({ timeout: 20_000 });
    await cardOf(id).locator('button.replies').click();
    const thread = page.locator('#thread-body');
    await thread.getByText('Audit summary').waitFor();
    await expect(thread.textContent()).resolves.toContain(id);
    await page.screenshot({ path: `${SHOTS}/thread-summary.png` });
    await page.locator('#thread-close').click();

    const seen = await agent(`/v1/queries/${id}?waitMs=5000`);
    expect(seen.json.status).toBe('succeeded');
    expect(seen.json.approval.votes.map((v: { vote: string; by: string }) => `${v.vote} ${v.by}`)).toEqual(['approve alice', 'approve bob']);
  });

  it('deny: hostile SQL and reasons stay text, an empty reason is refused on the modal, the reason reaches the agent', async () => {
    const hostile = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;
    const sql = `select ssn, email from customers where notes = '${hostile} *not bold* <!channel> <javascript:alert(1)|click>'`;
    const id = await submit(sql, { prompt: `Ignore the rules ${hostile} <@${ALICE}>`, purpose: `audit </div><b>x</b>` });
    await actAs(ALICE);
    const card = cardOf(id);
    await card.getByRole('button', { name: 'Deny' }).waitFor();
    const text = await card.textContent();
    expect(text).toContain('<script>window.__pwned=1</script>');
    expect(text).toContain('</div><b>x</b>');
    expect(await card.locator('img, script, b, a[href^="javascript"]').count()).toBe(0);

    await card.getByRole('button', { name: 'Deny' }).click();
    const modal = page.locator('#modal form.modal');
    await modal.getByText('Deny query').waitFor();
    await modal.getByRole('button', { name: 'Deny' }).click();
    await modal.locator('.bk-error', { hasText: 'Say why' }).waitFor();

    const reason = `Use a WHERE clause </textarea><img src=x onerror="window.__pwned=2"> and no SSNs`;
    await modal.locator('textarea').fill(reason);
    await page.screenshot({ path: `${SHOTS}/deny-modal.png` });
    await modal.getByRole('button', { name: 'Deny' }).click();
    await page.locator('#modal').waitFor({ state: 'hidden' });
    await cardOf(id).locator('.bk-header', { hasText: 'rejected' }).waitFor();
    await expect(cardOf(id).textContent()).resolves.toContain(reason);
    expect(await page.locator('#messages img, #thread img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: `${SHOTS}/denied-card.png` });

    const seen = await agent(`/v1/queries/${id}`);
    expect(seen.json.status).toBe('rejected');
    expect(seen.json.approval.votes).toEqual([expect.objectContaining({ vote: 'deny', by: 'alice', reason })]);
  });

  it('/airlock typed on the page: a reviewer gets the pending list, an outsider a refusal, each only for themselves', async () => {
    const id = await submit('truncate table analytics.public.orders');
    await actAs(SAM);
    await cardOf(id).waitFor();
    await page.locator('#composer-input').fill('/airlock pending');
    await page.locator('#composer-input').press('Enter');
    await lastEphemeral().getByText('waiting for approval').waitFor();
    await expect(lastEphemeral().textContent()).resolves.toContain(id);
    await page.screenshot({ path: `${SHOTS}/pending-list.png` });
    // Its "open card" link is the card's permalink: it opens this page at that card.
    const cardTs = await cardOf(id).getAttribute('data-ts');
    await lastEphemeral().locator('.bk-text', { hasText: id }).getByRole('link', { name: 'open card' }).click();
    await page.locator(`#messages article.linked[data-ts="${cardTs}"]`).waitFor();
    await expect(page.locator('[data-user-id="U0SBSAM"]').getAttribute('aria-checked')).resolves.toBe('true');

    await actAs(OLLY);
    await page.locator('#composer-input').fill('/airlock pending');
    await page.locator('#composer-input').press('Enter');
    await lastEphemeral().getByText('Only approvers and reviewers').waitFor();
    await expect(page.locator('#messages article.ephemeral', { hasText: id }).count()).resolves.toBe(0);
  });

  it('draws every Block Kit element the page knows, with mrkdwn formatting and only safe links', async () => {
    // Put straight into the channel (as a restored channel is): rich_text and images are blocks Airlock does not
    // send, so the workspace's Block Kit check would refuse them from chat.postMessage.
    const ts = (Date.now() / 1000).toFixed(6);
    suite.env.sandbox!.workspace.restore({ messages: [[ts, { channel: 'C0SANDBOX', text: 'block kit sample', edits: 0, reusedBlockIds: [], blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':warning: Sample header' } },
        { type: 'section', text: { type: 'mrkdwn', text: '*bold* _italic_ ~struck~ `code` <https://example.com/a?b=1&amp;c=2|a link> <javascript:alert(1)|not a link> <@U0SBBOB> <!subteam^S0SANDBOXAPPR> &lt;b&gt;kept&lt;/b&gt;\n&gt; quoted line' } },
        { type: 'divider' },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Left*\none' }, { type: 'plain_text', text: 'Right <i>two</i>' }] },
        { type: 'rich_text', elements: [
          { type: 'rich_text_section', elements: [{ type: 'text', text: 'rich ' }, { type: 'text', text: 'bold', style: { bold: true } }, { type: 'link', url: 'javascript:alert(2)', text: 'bad' }] },
          { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'SELECT 1;\n<script>x</script>' }] },
          { type: 'rich_text_list', style: 'ordered', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'first' }] }] },
        ] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'context _note_' }, { type: 'image', image_url: 'https://example.com/x.png', alt_text: 'logo' }] },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Plain' }, action_id: 'sample_plain', value: 'x' }] },
      ] }]], ephemerals: [], views: [] });
    const sample = page.locator(`#messages article[data-ts="${ts}"]`);
    await sample.waitFor();
    await expect(sample.locator('.bk-header').textContent()).resolves.toBe('⚠️ Sample header');
    await expect(sample.locator('strong', { hasText: 'bold' }).count()).resolves.toBe(2);
    await expect(sample.locator('em', { hasText: 'italic' }).count()).resolves.toBe(1);
    await expect(sample.locator('del', { hasText: 'struck' }).count()).resolves.toBe(1);
    await expect(sample.locator('.bk-text code', { hasText: 'code' }).count()).resolves.toBe(1);
    await expect(sample.locator('a').evaluateAll((as) => as.map((a) => (a as { href: string }).href))).resolves.toEqual(['https://example.com/a?b=1&c=2']);
    const text = await sample.textContent();
    for (const shown of ['not a link', '@Bob Approver', '@sandbox-approvers', '<b>kept</b>', 'Right <i>two</i>', 'bad', '<script>x</script>', 'first', '[logo]']) expect(text).toContain(shown);
    await expect(sample.locator('blockquote', { hasText: 'quoted line' }).count()).resolves.toBe(1);
    await expect(sample.locator('hr.bk-divider').count()).resolves.toBe(1);
    await expect(sample.locator('.bk-fields .bk-field').count()).resolves.toBe(2);
    await expect(sample.locator('.bk-rich pre').count()).resolves.toBe(1);
    await expect(sample.locator('.bk-rich ol li').count()).resolves.toBe(1);
    await expect(sample.locator('i, b, script, img').count()).resolves.toBe(0);
    await expect(sample.getByRole('button', { name: 'Plain' }).getAttribute('class')).resolves.toBe('bk-button');
  });
});

