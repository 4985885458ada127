/**
 * `airlock demo` (`npm run demo`): a scripted agent against the `airlock dev`
 * running in this folder. It sends five statements that take every path — a
 * safe read, a PII read, a destructive DROP that needs two approvals, an
 * exfiltration the policy refuses, a typo — and prints what the agent sees at
 * each step. The reviewed ones appear as cards in the Slack sandbox; the demo
 * long-polls them and prints each outcome as people decide there.
 *
 * Where dev runs comes from its state directory (`.airlock/dev-lock.json`),
 * the token from its dev issuer: nothing to copy by hand.
 */
import { parseArgs } from 'node:util';
import { AirlockError } from '../../errors.ts';
import { TERMINAL_STATUSES } from '../../queries/types.ts';
import { SANDBOX_OWNER_EMAIL } from '../../sandbox/roster.ts';
import { stderr } from '../lib/process.ts';

/** One statement of the script, and what it shows. */
interface DemoStep {
  title: string;
  sql: string;
  purpose: string;
}

/** The script: one statement per path through Airlock. */
export const DEMO_STEPS: readonly DemoStep[] = [
  { title: 'A safe read: allowed at once', sql: 'select order_id, status, amount, currency from orders order by order_id limit 3', purpose: 'weekly revenue check' },
  { title: 'A PII read: one approval, then masked rows', sql: 'select customer_id, first_name, email, ssn from customers order by customer_id limit 3', purpose: 'verify the support export' },
  { title: 'A destructive DROP: two approvals', sql: 'drop table if exists analytics.public.orders_2019', purpose: 'retire the 2019 archive' },
  { title: 'An exfiltration: refused by policy', sql: 'copy into @~/exports/customers from analytics.public.customers', purpose: 'back up customers' },
  { title: 'A typo: refused at once', sql: 'selct * from orders', purpose: 'count orders' },
];

/** Options of {@link runDemo}. */
export interface DemoOptions {
  apiUrl: string;
  token: string;
  /** The sandbox page, to point people at. */
  sandboxUrl?: string;
  /** How long to wait for people to decide on the reviewed statements (0: do not wait). */
  waitSeconds: number;
  /** Where the agent's view is printed, line by line. */
  out: (line: string) => void;
}

type Json = Record<string, any>; // the API's JSON, read loosely for printing

/** The final status of each step, in order. */
export type DemoReport = string[];

async function call(o: DemoOptions, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${o.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${o.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: ((await res.json().catch(() => ({}))) ?? {}) as Json };
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

/** Up to five rows as an aligned table, cells cut to 40 characters. */
function table(result: Json | undefined): string[] {
  if (!result?.columns) return [];
  const names: string[] = result.columns.map((c: Json) => String(c.name));
  const rows: string[][] = (result.rows as unknown[][]).slice(0, 5).map((r) => r.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)).slice(0, 40)));
  const widths = names.map((n, i) => Math.max(n.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' │ ');
  return [line(names), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map(line)];
}

/** What the agent sees of a query, in a few lines. */
function describe(status: number, json: Json): string[] {
  if (json.error) {
    const codes = [...new Set((json.decision?.reasons ?? []).map((r: Json) => String(r.code)))];
    return [`← ${status} ${json.error.code}: ${json.error.message}`, ...(codes.length ? [`  reasons: ${codes.join(', ')}`] : [])];
  }
  const d = json.decision ?? {};
  const head = `← ${status} ${json.status} · ${d.action}, ${d.risk} risk`;
  switch (json.status) {
    case 'pending_approval':
      return [
        `${head} · needs ${json.approval?.required ?? d.approvals?.required} approval(s) from ${(json.approval?.groups ?? d.approvals?.groups ?? []).join(', ')}`,
        ...indent((d.reasons ?? []).slice(0, 3).map((r: Json) => `${r.code}: ${r.message}`)),
      ];
    case 'succeeded': {
      const votes = (json.approval?.votes ?? []).filter((v: Json) => v.vote === 'approve').map((v: Json) => v.by);
      const masked = (json.masking?.columns ?? []).map((c: Json) => `${c.name} (${c.strategy})`);
      return [
        `${head}${votes.length ? ` · approved by ${votes.join(', ')}` : ''} · ${json.result?.rowCount ?? 0} row(s)${masked.length ? ` · masked: ${masked.join(', ')}` : ''}`,
        ...indent(table(json.result)),
      ];
    }
    case 'rejected': {
      const deny = (json.approval?.votes ?? []).find((v: Json) => v.vote === 'deny');
      return [`${head} · denied by ${deny?.by ?? 'an approver'}: "${deny?.reason ?? ''}"`];
    }
    default:
      return [`${head}${json.error?.message ? ` · ${json.error.message}` : ''}${json.waiting ? ` · ${json.waiting}` : ''}`];
  }
}

/** The agent's answer: its first line marked as the agent's, the rest under it. */
function print(out: (line: string) => void, lines: string[]): void {
  for (const [i, line] of lines.entries()) out(i === 0 ? `  agent ${line}` : `        ${line}`);
}

/** Long-poll a query until it ends or `deadline` passes; its last view. */
async function settle(o: DemoOptions, id: string, deadline: number): Promise<{ status: number; json: Json }> {
  let last = await call(o, `/v1/queries/${id}`);
  while (!TERMINAL_STATUSES.has(last.json.status) && Date.now() < deadline) {
    const waitMs = Math.min(20_000, Math.max(0, deadline - Date.now()));
    last = await call(o, `/v1/queries/${id}?waitMs=${waitMs}`);
  }
  return last;
}

/** Run the script; prints as it goes and returns each step's final status. */
export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const { out } = o;
  const report: DemoReport = [];
  const pending: Array<{ n: number; id: string }> = [];
  for (const [i, step] of DEMO_STEPS.entries()) {
    out(`\n[${i + 1}/${DEMO_STEPS.length}] ${step.title}`);
    out(`  agent → POST /v1/queries  ${step.sql}`);
    const { status, json } = await call(o, '/v1/queries', { sql: step.sql, purpose: step.purpose, waitMs: 5_000 });
    print(out, describe(status, json));
    report.push(json.status ?? json.error?.code ?? String(status));
    if (json.status && !TERMINAL_STATUSES.has(json.status)) pending.push({ n: i, id: json.id });
  }
  if (pending.length === 0 || o.waitSeconds <= 0) return report;
  out(`\n${pending.length} statement(s) wait for people.${o.sandboxUrl ? ` Open ${o.sandboxUrl}, pick a user on the left and click:` : ''}`);
  out('  Alice or Bob approve; Dana owns this agent (refused); Olly is no approver; Sam may only look (/airlock pending).');
  out(`  The PII read needs one approval, the DROP two. Deny one to see the reason reach the agent. Waiting up to ${o.waitSeconds} s…`);
  const deadline = Date.now() + o.waitSeconds * 1000;
  await Promise.all(
    pending.map(async ({ n, id }) => {
      const { status, json } = await settle(o, id, deadline);
      out(`\n[${n + 1}/${DEMO_STEPS.length}] ${DEMO_STEPS[n]!.title}`);
      if (json.status === 'pending_approval') {
        print(out, [`← ${status} pending_approval · still waiting (until ${json.approval?.expiresAt}); decide on its card, or withdraw it: POST /v1/queries/${id}/cancel`]);
      } else print(out, describe(status, json));
      report[n] = json.status ?? report[n]!;
    }),
  );
  return report;
}

/** `airlock demo [--wait SECONDS] [--state-dir DIR]`. */
export async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { wait: { type: 'string' }, 'state-dir': { type: 'string' } }, strict: true });
  const waitSeconds = values.wait === undefined ? 600 : Number(values.wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0) throw new AirlockError('BAD_REQUEST', '--wait must be a whole number of seconds (0: do not wait).');
  const stateDir = values['state-dir'] ?? '.airlock';
  const { runningDev } = await import('../../app/dev-lock.ts');
  const dev = await runningDev(stateDir);
  if (!dev?.apiUrl) throw new AirlockError('DEPENDENCY_MISSING', `No airlock dev is running with its state in ${stateDir}: start it with \`npm start\` in another terminal, then run \`npm run demo\` again.`);
  const { requestDevToken } = await import('../../identity/dev-token.ts');
  const token = await requestDevToken({ stateDir, agent: 'demo-agent', owner: SANDBOX_OWNER_EMAIL, groups: ['analysts'] });
  const sandboxUrl = await fetch(`${dev.apiUrl}/sandbox`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) })
    .then((r) => (r.ok ? `${dev.apiUrl}/sandbox` : undefined))
    .catch(() => undefined);
  stderr(`Airlock demo agent "demo-agent" (owner ${SANDBOX_OWNER_EMAIL}) → ${dev.apiUrl}`);
  await runDemo({ apiUrl: dev.apiUrl, token, ...(sandboxUrl ? { sandboxUrl } : {}), waitSeconds, out: (line) => process.stdout.write(`${line}\n`) });
  return 0;
}
