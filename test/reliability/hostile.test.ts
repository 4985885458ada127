/**
 * Hostile input against a real Airlock (`airlock dev`: real Redis, the dev
 * OIDC issuer's real tokens, the emulator warehouse, the Slack receiver with
 * the fake Web API): every route the server serves — enumerated from the
 * server, so new routes are covered — gets property-based requests with
 * hostile methods, path parameters, query strings, headers and bodies, plus
 * the named pathological SQL shapes. Every answer must be below 500 and every
 * error `{error:{code,message}}` with a code from src/errors.ts.
 *
 * Bounded in `npm test` (a few hundred requests); `npm run test:reliability`
 * sets AIRLOCK_RELIABILITY=long and sends over 10,000 (docs/reliability.md).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../src/api/routes.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { answerProblem, HostileTally, hostileRequests, signedSlackBodies, type HostileContext, type HostileRequest } from '../support/hostile.ts';
import { PATHOLOGICAL_SQL } from '../support/pathological-sql.ts';
import { rawRequest, type RawRequest } from '../support/raw-http.ts';
import { uniquePrefix } from '../support/redis.ts';
import { signSlackRequest } from '../support/slack-sign.ts';

const LONG = process.env.AIRLOCK_RELIABILITY === 'long';
/** Requests of the route property; the long run reaches 10,000 hostile requests with the other tests. */
const ROUTE_RUNS = LONG ? 9_000 : 250;
const SLACK_RUNS = LONG ? 1_000 : 60;
const SECRET = 'hostile-signing-secret';
const prefix = uniquePrefix('hostile');
const tally = new HostileTally();

let suite: DevSuite;
let slack: FakeSlack;
let port: number;
let ctx: HostileContext;
let agentToken: string;

/** Send one request, count it, and return the problem with its answer (undefined when none). */
async function send(request: HostileRequest): Promise<string | undefined> {
  const response = await rawRequest(port, request);
  tally.record(request, response);
  return answerProblem(request, response);
}

beforeAll(async () => {
  slack = await startFakeSlack();
  suite = await startDevSuite({
    prefix,
    env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, SLACK_APPROVAL_CHANNEL: 'C0HOSTILE', SLACK_API_URL: slack.url },
  });
  port = Number(new URL(suite.env.apiUrl).port);
  agentToken = await suite.env.mintToken({ agent: 'hostile-agent', owner: 'owner@example.com', groups: ['analysts'] });
  const reviewer = await suite.env.mintToken({ agent: 'hostile-reviewer', owner: 'reviewer@example.com', scopes: ['airlock:review'] });
  // Real records for the generated ids: a finished read, a pending review, a denial.
  const ids: string[] = [];
  for (const sql of ['select customer_id, segment from customers order by customer_id limit 3', 'select email from customers limit 3', 'drop table customers']) {
    const request = { route: 'setup', method: 'POST', path: '/v1/queries', headers: [['Authorization', `Bearer ${agentToken}`], ['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ sql, waitMs: 10_000 }) };
    const id = (JSON.parse((await rawRequest(port, request)).body) as { id?: string }).id;
    if (id) ids.push(id);
  }
  ctx = { routes: routesOf(suite.env.app.api!), tokens: [agentToken, reviewer], slackSecret: SECRET, ids };
}, 120_000);

afterAll(async () => {
  // The figures docs/reliability.md records.
  console.info(`hostile input (${LONG ? 'long' : 'bounded'}): ${tally.summary()}\n${tally.perRoute()}`);
  await suite?.close();
  await slack?.close();
});

describe('hostile input on every route', () => {
  it('enumerates the routes from the server, the Slack receiver among them, and has real query ids to aim at', () => {
    expect(ctx.ids).toHaveLength(3);
    const names = ctx.routes.map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(expect.arrayContaining(['POST /v1/queries', 'GET /v1/queries/:id', 'GET /v1/sessions', 'POST /slack/events', 'GET /healthz']));
  });

  it(
    'never answers 5xx, and every error is {error:{code,message}} with a documented code',
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileRequests(ctx), async (request) => {
          const problem = await send(request);
          if (problem) throw new Error(`${request.method} ${request.path.slice(0, 200)} → ${problem}`);
        }),
        { numRuns: ROUTE_RUNS, endOnFailure: true },
      );
    },
    LONG ? 1_800_000 : 120_000,
  );

  it(
    'signed Slack requests with bodies Slack never sends are refused or acknowledged, never 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(signedSlackBodies(), async ({ contentType, body }) => {
          const headers = Object.entries({ 'Content-Type': contentType, ...signSlackRequest({ secret: SECRET, body }) });
          const problem = await send({ route: 'POST /slack/events', method: 'POST', path: '/slack/events', headers, body });
          if (problem) throw new Error(`signed Slack body ${body.slice(0, 200)} → ${problem}`);
        }),
        { numRuns: SLACK_RUNS, endOnFailure: true },
      );
    },
    LONG ? 600_000 : 60_000,
  );
});

describe('Slack receiver', () => {
  it.each([
    ['payload=null', 'application/x-www-form-urlencoded'],
    ['payload=1', 'application/x-www-form-urlencoded'],
    ['payload=%5B%5D', 'application/x-www-form-urlencoded'],
    ['payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A7%7D', 'application/x-www-form-urlencoded'],
    ['null', 'application/json'],
  ])('a signed %s (%s) is refused with a documented code or acknowledged', async (body, contentType) => {
    const headers = Object.entries({ 'Content-Type': contentType, ...signSlackRequest({ secret: SECRET, body }) });
    const request = { route: 'POST /slack/events', method: 'POST', path: '/slack/events', headers, body };
    const response = await rawRequest(port, request);
    tally.record(request, response);
    expect(answerProblem(request, response)).toBeUndefined();
  });
});

describe('pathological SQL', () => {
  const json = (sql: string) => JSON.stringify({ sql });
  const headers = (): Array<[string, string]> => [
    ['Authorization', `Bearer ${agentToken}`],
    ['Content-Type', 'application/json'],
  ];

  it.each(Object.entries(PATHOLOGICAL_SQL))(
    '%s: a documented answer on submit and evaluate, and never allowed unless fully analysed',
    async (_name, sql) => {
      for (const path of ['/v1/policy/evaluate', '/v1/queries']) {
        const request = { route: `POST ${path}`, method: 'POST', path, headers: headers(), body: json(sql) };
        const response = await rawRequest(port, request);
        tally.record(request, response);
        expect(answerProblem(request, response)).toBeUndefined();
        expect([200, 202, 400, 403, 413]).toContain(response.status);
        const decision = JSON.parse(response.body).decision as { action: string; complete: boolean; reasons: Array<{ code: string }> } | undefined;
        if (decision?.action === 'allow') expect(decision.complete).toBe(true);
        if (decision?.reasons.some((r) => r.code === 'SQL_TOO_COMPLEX')) {
          expect(decision.action).toBe('deny');
          if (path === '/v1/queries') expect(JSON.parse(response.body).error.code).toBe('SQL_TOO_COMPLEX');
        }
      }
    },
    60_000,
  );

  it('the chains that overflowed the stack are refused as SQL_TOO_COMPLEX with 400', async () => {
    for (const name of ['plus chain, 10,000 operators', "'a'|| chain, 50 KB", '5,000 ORs', 'CASE nested 2,500 deep', 'parentheses 5,000 deep']) {
      const request = { route: 'POST /v1/queries', method: 'POST', path: '/v1/queries', headers: headers(), body: json(PATHOLOGICAL_SQL[name]!) };
      const response = await rawRequest(port, request);
      tally.record(request, response);
      expect(response.status, name).toBe(400);
      expect(JSON.parse(response.body).error.code, name).toBe('SQL_TOO_COMPLEX');
    }
  });
});

describe('a burst of large statements', () => {
  it('the analysis pool refuses what it cannot queue with 503 ANALYSIS_BUSY, and nothing of a refused request is recorded', async () => {
    const token = await suite.env.mintToken({ agent: 'burst-agent', owner: 'owner@example.com', groups: ['analysts'] });
    // ~90 KB each, distinct, fully analysed (well under the token bound), reviewed for the email column: nothing runs.
    const ids = (n: number) => Array.from({ length: 11_000 }, (_, i) => 100_000 + i + n).join(',');
    const headers: Array<[string, string]> = [
      ['Authorization', `Bearer ${token}`],
      ['Content-Type', 'application/json'],
    ];
    const requests = Array.from({ length: 40 }, (_, n) => ({
      route: 'POST /v1/queries',
      method: 'POST',
      path: '/v1/queries',
      headers,
      body: JSON.stringify({ sql: `select email from customers where customer_id in (${ids(n)})` }),
    }));
    // Not in the tally: a 503 is this test's expected answer (load, not hostile input).
    const responses = await Promise.all(requests.map((r) => rawRequest(port, r, 120_000)));
    const busy = responses.filter((r) => r.status === 503);
    const accepted = responses.filter((r) => r.status !== 503).map((r) => JSON.parse(r.body) as { id?: string; status?: string; error?: { code: string } });
    // 2 threads and 16 waiting places: 40 at once cannot all be taken.
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(JSON.parse(r.body).error.code).toBe('ANALYSIS_BUSY');
      expect(r.headers['retry-after']).toBe('1');
      expect(JSON.parse(r.body).id).toBeUndefined();
    }
    // Each taken one is pending review, or — when its thread ran past the time limit on a loaded machine — denied as too complex; both are recorded.
    for (const a of accepted) expect(a.status === 'pending_approval' || a.error?.code === 'SQL_TOO_COMPLEX', JSON.stringify(a).slice(0, 300)).toBe(true);
    expect(accepted.every((a) => typeof a.id === 'string')).toBe(true);
    // The session log holds exactly the accepted ones: a refused request left no trace.
    const listed = await rawRequest(port, { method: 'GET', path: '/v1/sessions?limit=500', headers: [['Authorization', `Bearer ${token}`]] });
    const sessions = (JSON.parse(listed.body) as { sessions: Array<{ id: string }> }).sessions.map((x) => x.id);
    expect(sessions.sort()).toEqual(accepted.map((a) => a.id!).sort());
  }, 180_000);
});

describe('named edge cases', () => {
  const get = (path: string, extra: Array<[string, string]> = []): RawRequest & { route: string } => ({
    route: 'named',
    method: 'GET',
    path,
    headers: [['Authorization', `Bearer ${agentToken}`], ...extra],
  });

  it.each([
    ['/v1/sessions?from=yesterday&to=today', 400, 'VALIDATION_FAILED'],
    ['/v1/sessions?from=2026-13-45&to=2026-99-01', 400, 'VALIDATION_FAILED'],
    ['/v1/sessions?from=2026-01-02&to=2026-01-01', 400, 'VALIDATION_FAILED'],
    ['/v1/sessions?limit=1e309', 400, 'VALIDATION_FAILED'],
    ['/v1/queries/%E0%A4%A', 400, 'BAD_REQUEST'],
    [`/v1/queries/${'a'.repeat(101)}`, 400, 'BAD_REQUEST'],
    ['/v1/queries/00000000-0000-0000-0000-000000000000?waitMs=abc', 400, 'VALIDATION_FAILED'],
    ['/v1/queries/x/results?limit=-1', 400, 'VALIDATION_FAILED'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const request = get(path);
    const response = await rawRequest(port, request);
    tally.record(request, response);
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).error.code).toBe(code);
  });

  it('a JSON body nested 50,000 deep is refused as INVALID_JSON on every JSON route, /mcp included (it overflowed JSON.stringify there)', async () => {
    for (const path of ['/v1/queries', '/v1/policy/evaluate', '/mcp']) {
      const request = {
        route: 'named',
        method: 'POST',
        path,
        headers: [['Authorization', `Bearer ${agentToken}`], ['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream']] as Array<[string, string]>,
        body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      };
      const response = await rawRequest(port, request);
      tally.record(request, response);
      expect(response.status, path).toBe(400);
      expect(JSON.parse(response.body).error.code, path).toBe('INVALID_JSON');
    }
  });

  it("refusals of Node's HTTP parser come in Airlock's shape: headers over 16 KB → 431, a broken request line → 400", async () => {
    const huge = get('/healthz', [['X-Padding', 'p'.repeat(20_000)]]);
    const tooLarge = await rawRequest(port, huge);
    tally.record(huge, tooLarge);
    expect(tooLarge.status).toBe(431);
    expect(JSON.parse(tooLarge.body).error.code).toBe('HEADERS_TOO_LARGE');
    const broken = { route: 'named', method: 'GET', path: '/v1/queries/a b c' };
    const bad = await rawRequest(port, broken);
    tally.record(broken, bad);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('BAD_REQUEST');
  });

  it('the server is still healthy after everything', async () => {
    const response = await rawRequest(port, { method: 'GET', path: '/healthz' });
    expect(response.status).toBe(200);
    expect(tally.fiveHundreds).toBe(0);
  });
});
