/**
 * Red-team leak suite for issue #11, end to end and all real: the SHIPPED
 * policy (policies/default.yaml), the dev OIDC issuer's tokens, the API and
 * worker on real Redis and BullMQ, the real snowflake-sdk against the
 * emulator's demo data.
 *
 * Every attack of ./support/attack-corpus.ts touches sensitive data, so:
 *   1. its decision is never `allow`;
 *   2. no raw demo PII value (or an easy rewrite of one: digits without
 *      dashes, reversed, translated, hex, base64) appears in the POST answer,
 *      GET /v1/queries/:id, its result pages, its errors, its session as a
 *      reviewer replays it (GET /v1/sessions/:id), the raw audit events and
 *      query keys in Redis, or the logs.
 * The harmless set must stay `allow` and run (≥ 95 %).
 *
 * All statements run once, in beforeAll, four at a time; each case's test then
 * checks what was recorded for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { dumpPrefixByKey, uniquePrefix } from '../support/redis.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { captureLogs } from '../support/logs.ts';
import { ATTACKS, HARMLESS, PACKING_CAP, PACKING_HARMLESS, type AttackClass } from './support/attack-corpus.ts';
import { loadDemoSecrets, type DemoSecrets } from './support/demo-secrets.ts';

const prefix = uniquePrefix('leak-e2e');
let env: DevEnvironment;
let suite: DevSuite;
let secrets: DemoSecrets;
let call: ApiClient;
let reviewer: string;
const logs = captureLogs('info');

/** What one statement produced, everywhere Airlock shows or keeps it. */
interface Observation {
  status: number;
  /** The POST answer. */
  body: any; // checked field by field; the API's JSON
  action: string | undefined;
  /** Every text that must be free of PII, labelled by where it came from. */
  texts: { where: string; text: string }[];
}
const observations = new Map<string, Observation>();

/** Submit one statement and read back everything the agent and a reviewer can see of it. */
async function observe(sql: string): Promise<Observation> {
  const post = await call('/v1/queries', { body: { sql, waitMs: 10_000 } });
  const texts = [{ where: 'POST /v1/queries', text: post.text }];
  const id: string | undefined = post.json?.id ?? post.json?.error?.details?.id;
  if (id) {
    const get = await call(`/v1/queries/${id}`);
    texts.push({ where: 'GET /v1/queries/:id', text: get.text });
    let cursor: string | undefined = get.json?.result?.nextCursor;
    for (let page = 0; cursor && page < 5; page++) {
      const p = await call(`/v1/queries/${id}/results?limit=1000&cursor=${encodeURIComponent(cursor)}`);
      texts.push({ where: `GET /v1/queries/:id/results page ${page + 1}`, text: p.text });
      cursor = p.json?.nextCursor;
    }
    const session = await call(`/v1/sessions/${id}`, { token: reviewer });
    expect(session.status, `session replay of ${id}: ${session.text.slice(0, 200)}`).toBe(200);
    texts.push({ where: 'GET /v1/sessions/:id (reviewer)', text: session.text });
  }
  return { status: post.status, body: post.json, action: post.json?.decision?.action, texts };
}

/** Run `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/**
 * Raw Redis text per case (the keys of its query and the audit stream entries
 * of its session), and everything not tied to one query.
 */
async function redisTexts(ids: Map<string, string>): Promise<{ perCase: Map<string, string>; rest: string }> {
  const perId = new Map<string, string[]>();
  const rest: string[] = [];
  for (const [key, text] of await dumpPrefixByKey(`${prefix}:`)) {
    // A query's keys carry its id; an audit stream entry carries its session (= query id) in its fields.
    const owner = UUID.exec(key)?.[0] ?? (key.startsWith(`${prefix}:audit/`) ? UUID.exec(text)?.[0] : undefined);
    if (owner) perId.set(owner, [...(perId.get(owner) ?? []), `${key}\n${text}`]);
    else rest.push(`${key}\n${text}`);
  }
  const perCase = new Map<string, string>();
  const known = new Set(ids.values());
  for (const [caseId, queryId] of ids) perCase.set(caseId, (perId.get(queryId) ?? []).join('\n'));
  for (const [queryId, parts] of perId) if (!known.has(queryId)) rest.push(...parts);
  return { perCase, rest: rest.join('\n') };
}

/** Secrets found in an observation, as `where: kind value` lines. */
function leaksOf(caseId: string, sql: string, extra: string[] = []): string[] {
  const o = observations.get(caseId)!;
  // Bare numbers are salaries only where no order ids or amounts can stand beside them.
  const bareSalaries = /employees/i.test(sql) && !/orders/i.test(sql);
  const out: string[] = [];
  for (const { where, text } of [...o.texts, ...extra.map((text) => ({ where: 'Redis', text }))]) {
    for (const f of secrets.scan(text, { bareSalaries })) out.push(`${where}: ${f.kind} ${f.value.slice(0, 60)}`);
  }
  return out;
}

let redisPerCase = new Map<string, string>();
let redisRest = '';

beforeAll(async () => {
  secrets = await loadDemoSecrets();
  suite = await startDevSuite({ prefix, env: { AIRLOCK_LOG_LEVEL: 'info', AIRLOCK_POLICY: 'policies/default.yaml' }, logger: logs.logger });
  env = suite.env;
  call = apiClient(env.apiUrl, await env.mintToken({ agent: 'red-team-agent', owner: 'mallory@example.com', groups: ['analysts'] }));
  reviewer = await env.mintToken({ agent: 'red-team-reviewer', groups: ['auditors'], scopes: ['airlock:query', 'airlock:review'] });
  const all = [...ATTACKS, ...HARMLESS, ...PACKING_HARMLESS];
  await pool(all, 4, async (c) => {
    observations.set(c.id, await observe(c.sql));
  });
  const ids = new Map<string, string>();
  for (const c of all) {
    const b = observations.get(c.id)!.body;
    const id = b?.id ?? b?.error?.details?.id;
    if (id) ids.set(c.id, id);
  }
  ({ perCase: redisPerCase, rest: redisRest } = await redisTexts(ids));
}, 240_000);

afterAll(async () => {
  await suite?.close();
});

describe('the corpus and the secrets are real', () => {
  it('the demo PII read from the seed is complete enough to catch a leak', () => {
    expect(secrets.counts.ssn).toBeGreaterThan(10_000);
    expect(secrets.counts.email).toBeGreaterThan(10_000);
    expect(secrets.counts.phone).toBeGreaterThan(2_000); // 555-01xx in a few area codes: few distinct
    expect(secrets.counts.card).toBeGreaterThan(9_900);
    expect(secrets.counts.address).toBeGreaterThan(9_000);
    expect(secrets.counts.salary).toBeGreaterThan(400);
    expect(secrets.counts.note).toBeGreaterThan(300);
  });

  it('the scanner finds each kind of secret and its rewrites, and nothing in ordinary text', () => {
    const probe = (text: string) => secrets.scan(text, { bareSalaries: true }).map((f) => f.kind);
    expect(probe('{"rows":[[1,"CONSUMER","Dallas","TX","75228",100001,"2024-01-02",12.5,"***-**-2403"]]}')).toEqual([]);
    // A salary's digits inside an id or a hash are not a salary (this once made the suite flaky).
    const digits = secrets.samples.salary.replace(/\.00$/, '');
    expect(probe(`{"id":"0a${digits}b-0c1d-4e2f-8a3b-4c5d6e7f8a9b","hash":"ff${digits}ee"}`)).toEqual([]);
    for (const [kind, value] of Object.entries(secrets.samples)) {
      expect(probe(`{"rows":[["x ${value} y"]]}`), `${kind} ${value}`).toContain(kind);
    }
    expect(observations.size).toBe(ATTACKS.length + HARMLESS.length + PACKING_HARMLESS.length);
  });

  it('covers every attack class with many variants', () => {
    const per: Record<string, number> = {};
    for (const a of ATTACKS) per[a.cls] = (per[a.cls] ?? 0) + 1;
    expect(per['table-literal']).toBeGreaterThanOrEqual(80);
    expect(per.rewrite).toBeGreaterThanOrEqual(40);
    expect(per.correlation).toBeGreaterThanOrEqual(50);
    expect(per['bare-alias']).toBeGreaterThanOrEqual(10);
    expect(per['cross-session']).toBeGreaterThanOrEqual(25);
    expect(per.packing).toBeGreaterThanOrEqual(10);
  });
});

const CLASSES: AttackClass[] = ['table-literal', 'rewrite', 'correlation', 'bare-alias', 'cross-session', 'packing'];

for (const cls of CLASSES) {
  describe(`attack class ${cls}: never allowed, nothing leaks`, () => {
    for (const a of ATTACKS.filter((x) => x.cls === cls)) {
      it(`${a.id}: ${a.sql}`, () => {
        const o = observations.get(a.id)!;
        expect(o.action, `decision for ${a.sql}: ${JSON.stringify(o.body?.decision ?? o.body).slice(0, 600)}`).toBeDefined();
        expect(o.action, `${a.sql} was allowed: ${JSON.stringify(o.body?.decision?.reasons ?? [])}`).not.toBe('allow');
        expect(leaksOf(a.id, a.sql, [redisPerCase.get(a.id) ?? ''])).toEqual([]);
      });
    }
  });
}

describe('harmless reads stay allowed', () => {
  it('≥ 95 % of the harmless set is allowed and runs', () => {
    const failing = HARMLESS.filter((h) => {
      const o = observations.get(h.id)!;
      return !(o.status === 200 && o.action === 'allow' && o.body?.status === 'succeeded');
    }).map((h) => {
      const o = observations.get(h.id)!;
      return `${h.id} → ${o.status} ${o.action ?? '-'} ${o.body?.status ?? ''} ${JSON.stringify(o.body?.error ?? o.body?.decision?.reasons ?? '').slice(0, 200)}`;
    });
    const share = (HARMLESS.length - failing.length) / HARMLESS.length;
    expect(share, `not allowed or not run:\n${failing.join('\n')}`).toBeGreaterThanOrEqual(0.95);
  });

  it('no harmless read returns a PII value anywhere', () => {
    const leaks = HARMLESS.flatMap((h) => leaksOf(h.id, h.sql, [redisPerCase.get(h.id) ?? '']).map((l) => `${h.id}: ${l}`));
    expect(leaks).toEqual([]);
  });
});

describe('one row, many rows: an allowed read is capped by cells and bytes too', () => {
  for (const p of PACKING_HARMLESS) {
    it(`${p.id}: ${p.sql}`, () => {
      const o = observations.get(p.id)!;
      if (o.action !== 'allow' || o.body?.status !== 'succeeded') return;
      // Every order id that came back, in any cell of any page.
      const values = new Set(o.texts.filter((t) => t.where.startsWith('GET /v1/queries/:id')).flatMap((t) => t.text.match(/\b1\d{5}\b/g) ?? []));
      expect(values.size, `${p.sql} returned ${values.size} order ids in one allowed read`).toBeLessThanOrEqual(PACKING_CAP);
    });
  }
});

describe('nothing else holds PII', () => {
  it('Redis keys and audit events not tied to one query hold no PII', () => {
    expect(secrets.scan(redisRest).map((f) => `${f.kind} ${f.value}`)).toEqual([]);
  });

  it('the logs hold no PII', () => {
    expect(secrets.scan(logs.text()).map((f) => `${f.kind} ${f.value}`)).toEqual([]);
  });
});
