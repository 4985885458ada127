/**
 * Hostile HTTP requests, property-based (fast-check), against every route a
 * running Airlock serves: the route list comes from the server itself
 * (src/api/routes.ts), so a new route is attacked without editing this file.
 * Each request varies the method, the path parameters, the query string, the
 * headers (tokens, content types, oversize and odd values) and the body
 * (schema-shaped objects with wrong types and hostile values, any JSON, bytes
 * that are not JSON or not UTF-8, the pathological SQL shapes, signed and
 * unsigned Slack payloads). {@link answerProblem} says what is wrong with an
 * answer: any 5xx, or an error without Airlock's documented shape.
 */
import fc from 'fast-check';
import { AIRLOCK_ERROR_CODES } from '../../src/errors.ts';
import type { RouteEntry } from '../../src/api/routes.ts';
import { PATHOLOGICAL_SQL } from './pathological-sql.ts';
import type { RawRequest, RawResponse } from './raw-http.ts';
import { signSlackRequest } from './slack-sign.ts';

/** What the generator may use: the routes, real tokens, and the Slack signing secret (to sign garbage). */
export interface HostileContext {
  routes: readonly RouteEntry[];
  /** Valid bearer tokens from the real issuer (an agent, a reviewer). */
  tokens: readonly string[];
  slackSecret?: string;
  /** Ids of real queries (succeeded, pending, denied), so hostile reads, pages and cancels reach real records. */
  ids?: readonly string[];
}

/** One generated request, with the route it was built from (for the report). */
export interface HostileRequest extends RawRequest {
  route: string;
}

const SPECIAL_STRINGS = [
  '', ' ', '%', '%zz', '%E0%A4%A', '%00', '%2F', '%2e%2e', '..', '../../etc/passwd', 'a'.repeat(100), 'a'.repeat(101), 'a'.repeat(5_000),
  '2026-13-45', '2026-02-30T25:61:00Z', 'not-a-date', '9999999-01-01', '0000-00-00', '1e309', '-1', '0', 'NaN', 'Infinity', '0x10',
  '1.5', '[]', '{}', 'null', 'true', "' or 1=1 --", '<script>x</script>', '\u0000', '\ud800', '\u202e', '𝕊𝔼𝕃', 'SELECT 1', '$$', '\\',
  '00000000-0000-0000-0000-000000000000', 'pending_approval', 'succeeded', 'ANALYTICS.PUBLIC.CUSTOMERS', 'e2e-agent',
];

/** Strings a careless handler chokes on: special values, random text of any Unicode, long runs. */
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 3_000 }) },
);

/** SQL-ish token soup: the parsers see every keyword and bracket in odd orders. */
const SQL_TOKENS = [
  'select', 'from', 'where', 'customers', 'orders', 'customer_id', 'email', '*', '(', ')', '[', ']', ',', ';', '1', "'x'", '"Q"', '$$b$$',
  '--', '/*', '*/', '+', '-', '||', '::', ':', '.', 'or', 'and', 'not', 'case', 'when', 'then', 'end', 'union', 'all', 'with', 'as', 'in',
  'join', 'on', 'limit', 'insert', 'into', 'values', 'update', 'set', 'delete', 'drop', 'table', 'execute', 'immediate', 'identifier',
  'lateral', 'flatten', 'over', 'partition', 'by', 'qualify', 'pivot', 'exists', 'call', 'copy', 'put', 'get', '@stage', '$1', '?',
];
const sqlSoup = fc.array(fc.constantFrom(...SQL_TOKENS), { minLength: 1, maxLength: 40 }).map((t) => t.join(' '));
const pathological = fc.constantFrom(...Object.values(PATHOLOGICAL_SQL));
const sql = fc.oneof({ weight: 6, arbitrary: sqlSoup }, { weight: 3, arbitrary: hostileString }, { weight: 1, arbitrary: pathological });

/** Any JSON value of a few levels. */
const anyJson = fc.jsonValue({ maxDepth: 4 });
/** JSON text nested deeper than any schema looks (as text: JSON.stringify itself overflows on it). */
const deepJsonText = fc.integer({ min: 1_000, max: 50_000 }).chain((d) =>
  fc.constantFrom(`${'['.repeat(d)}${']'.repeat(d)}`, `{"sql":${'['.repeat(d)}${']'.repeat(d)}}`, `{"labels":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`),
);
const waitMs = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 1.5, 120_001, 1e308, '5', null, true, [], {}));
const submitShaped = fc.record(
  {
    sql: fc.oneof({ weight: 5, arbitrary: sql }, { weight: 1, arbitrary: anyJson }),
    prompt: fc.oneof(hostileString, anyJson),
    purpose: fc.oneof(hostileString, anyJson),
    labels: fc.oneof(fc.dictionary(hostileString, fc.oneof(hostileString, anyJson), { maxKeys: 25 }), anyJson),
    waitMs,
    idempotencyKey: fc.oneof(hostileString, anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);

/** A body: nothing, a schema-shaped object, any JSON, or bytes that are not JSON / not UTF-8. */
const body: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 8, arbitrary: submitShaped.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: anyJson.map((j) => JSON.stringify(j) ?? 'null') },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => `{"sql": ${s}`) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '"x"', '[]', '{"sql":"select 1"', '\uFEFF{"sql":"select 1"}', '{"sql":"select 1","sql":1}') },
);

/** Percent-encoded; surrogates (encodeURIComponent refuses a lone one) become U+FFFD. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));

/** A path segment for `:param`: ids, over-long ids, bad or odd percent-encodings, raw bytes the HTTP parser refuses. */
const pathSegmentOf = (ids: readonly string[]) =>
  ids.length === 0 ? pathSegment : fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...ids) }, { weight: 3, arbitrary: pathSegment });
const pathSegment = fc.oneof(
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: hostileString.map(encode) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F..%2F', 'a'.repeat(101), 'a'.repeat(10_000), 'x y', 'ü', '\t') },
);

const QUERY_KEYS = ['waitMs', 'cursor', 'limit', 'agent', 'owner', 'approver', 'table', 'status', 'from', 'to', 'q', 'id', 'sql'];
const queryString = fc
  .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QUERY_KEYS) }, { weight: 1, arbitrary: hostileString }), hostileString), { maxLength: 6 })
  .chain((pairs) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')) },
      // Unencoded: what the HTTP parser and the query-string parser make of raw bytes.
      { weight: 1, arbitrary: fc.constant(pairs.map(([k, v]) => `${k}=${v}`.replace(/[\s#]/g, '_')).join('&')) },
    ),
  );

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'APPLICATION/JSON', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '', 'application/', '*/*',
  'application/json, text/plain', 'application/vnd.api+json',
];

/** Every route the server serves, with hostile methods, parameters, query strings, headers and bodies. */
export function hostileRequests(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ctx.tokens).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: hostileString.map((s) => `Bearer ${s}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic YTpi', 'Bearer', 'bearer  x.y.z', `Bearer ${'a'.repeat(9_000)}`, 'Bearer eyJhbGciOiJub25lIn0.e30.') },
  );
  // Mostly printable (so the request reaches a route); now and then bytes the HTTP parser refuses (never CR/LF: they would split the request).
  const headerValue = fc.oneof(
    { weight: 5, arbitrary: hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '')) },
    { weight: 1, arbitrary: hostileString.map((s) => s.replace(/[\r\n]/g, ' ')) },
  );
  const headers = fc.record(
    {
      authorization,
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constant('application/json') },
        { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: headerValue },
      ),
      extra: fc.array(fc.tuple(fc.constantFrom('x-forwarded-for', 'user-agent', 'accept', 'x-slack-retry-num', 'accept-encoding', 'x-request-id', 'x-weird'), headerValue), { maxLength: 3 }),
      // Headers over Node's 16 KB limit, now and then: refused before any route runs.
      huge: fc.integer({ min: 0, max: 29 }).map((n) => n === 0),
    },
    { requiredKeys: ['authorization', 'contentType', 'extra', 'huge'] },
  );
  // Airlock's own API and the Slack receiver three times as often as the operations routes and the protocol doors.
  const route = fc.oneof(...ctx.routes.map((r) => ({ weight: /^\/(v1|slack)\//.test(r.url) ? 3 : 1, arbitrary: fc.constant(r) })));
  const method = (r: RouteEntry) => fc.oneof({ weight: 8, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FOO') });
  return route.chain((r) =>
    fc.record({ method: method(r), segments: fc.array(pathSegmentOf(ctx.ids ?? []), { minLength: 4, maxLength: 4 }), query: fc.option(queryString), headers, body, sign: fc.boolean() }).map((g) => {
      let i = 0;
      const path = r.url.replace(/:[A-Za-z]+/g, () => g.segments[i++]!) + (g.query === null ? '' : `?${g.query}`);
      const list: Array<[string, string]> = [];
      if (g.headers.authorization !== undefined) list.push(['Authorization', g.headers.authorization]);
      if (g.headers.contentType !== '' || g.body !== undefined) list.push(['Content-Type', g.headers.contentType]);
      for (const [h, v] of g.headers.extra) list.push([h, v]);
      if (g.headers.huge) list.push(['X-Padding', 'p'.repeat(20_000)]);
      if (r.url === '/slack/events' && ctx.slackSecret && g.sign) {
        const text = g.body === undefined ? '' : Buffer.from(g.body).toString('utf8');
        for (const [h, v] of Object.entries(signSlackRequest({ secret: ctx.slackSecret, body: text }))) list.push([h, v]);
      }
      return { route: `${r.method} ${r.url}`, method: g.method, path, headers: list, ...(g.body !== undefined ? { body: g.body } : {}) };
    }),
  );
}

/** Slack requests signed with the real secret whose bodies are every odd form Slack never sends. */
export function signedSlackBodies(): fc.Arbitrary<{ contentType: string; body: string }> {
  const payload = fc.oneof(
    anyJson.map((j) => JSON.stringify(j) ?? 'null'),
    fc.record({ type: fc.constantFrom('block_actions', 'view_submission', 'shortcut', 'event_callback', 'url_verification', 'x'), actions: anyJson, user: anyJson, view: anyJson, challenge: anyJson, event: anyJson }, { requiredKeys: ['type'] }).map((p) => JSON.stringify(p)),
    hostileString,
  );
  return fc.oneof(
    payload.map((p) => ({ contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ payload: p }).toString() })),
    fc.dictionary(fc.constantFrom('command', 'text', 'user_id', 'team_id', 'channel_id', 'trigger_id', 'response_url', 'payload'), hostileString).map((d) => ({ contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(d).toString() })),
    payload.map((p) => ({ contentType: 'application/json', body: p })),
  );
}

const CODES = new Set<string>(AIRLOCK_ERROR_CODES);
const JSON_RPC_PATH = /^\/mcp(?:[/?]|$)/;
const SNOWFLAKE_WIRE_PATH = /^\/(?:session|telemetry|queries|monitoring|snowflake-wire)(?:[/?]|$)/;
const STACK_TRACE = /\bat [\w.<>]+ \(?[^)\s]*:\d+:\d+\)?|FST_ERR_|"statusCode"\s*:/;

/**
 * What is wrong with an answer, or undefined: a 5xx; an error status whose body
 * is not `{error:{code,message}}` with a code from src/errors.ts; a stack trace
 * or fastify's own error body anywhere.
 */
export function answerProblem(request: RawRequest, response: RawResponse): string | undefined {
  if (response.status >= 500) return `status ${response.status}: ${response.body.slice(0, 300)}`;
  if (STACK_TRACE.test(response.body)) return `a stack trace or framework error in the body: ${response.body.slice(0, 300)}`;
  if (response.status < 400 || request.method === 'HEAD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return `status ${response.status} without a JSON body: ${response.body.slice(0, 200)}`;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  // The MCP door speaks JSON-RPC: its protocol's own error shape (`{jsonrpc, error:{code:<number>, message}}`) is its documented one.
  if (JSON_RPC_PATH.test(request.path) && (parsed as { jsonrpc?: unknown }).jsonrpc === '2.0' && typeof error?.code === 'number' && typeof error.message === 'string') {
    return undefined;
  }
  // The Snowflake-wire door answers as Snowflake does (`{success:false, code, message}`; docs/snowflake-wire.md).
  const wire = parsed as { success?: unknown; code?: unknown; message?: unknown } | null;
  if (SNOWFLAKE_WIRE_PATH.test(request.path) && wire?.success === false && typeof wire.code === 'string' && typeof wire.message === 'string') return undefined;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message.length === 0) {
    return `status ${response.status} without {error:{code,message}}: ${response.body.slice(0, 200)}`;
  }
  if (!CODES.has(error.code)) return `status ${response.status} with an undocumented code ${error.code}`;
  return undefined;
}

/** Counts over a run: requests, statuses, error codes, and the problems found (first few kept). */
export class HostileTally {
  requests = 0;
  readonly statuses = new Map<number, number>();
  readonly codes = new Map<string, number>();
  readonly problems: string[] = [];
  fiveHundreds = 0;
  problemCount = 0;
  /** Route → `status code` → count, to see that requests reach every route's handler, not only the router. */
  readonly byRoute = new Map<string, Map<string, number>>();

  record(request: HostileRequest, response: RawResponse): void {
    this.requests++;
    this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
    if (response.status >= 500) this.fiveHundreds++;
    const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(response.body)?.[1];
    if (response.status >= 400 && code) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    const perRoute = this.byRoute.get(request.route) ?? new Map<string, number>();
    const outcome = `${response.status}${response.status >= 400 && code ? ` ${code}` : ''}`;
    perRoute.set(outcome, (perRoute.get(outcome) ?? 0) + 1);
    this.byRoute.set(request.route, perRoute);
    const problem = answerProblem(request, response);
    if (problem) this.problemCount++;
    if (problem && this.problems.length < 20) this.problems.push(`${request.method} ${request.path.slice(0, 120)} (${request.route}): ${problem}`);
  }

  /** One line per route: what its requests were answered with. */
  perRoute(): string {
    return [...this.byRoute.entries()].map(([route, m]) => `  ${route}: ${[...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(' ')}`).join('\n');
  }

  /** One line for the log and docs/reliability.md. */
  summary(): string {
    const sorted = <K>(m: Map<K, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(k)}×${n}`).join(' ');
    return `${this.requests} requests; 5xx: ${this.fiveHundreds}; undocumented or malformed: ${this.problemCount}; statuses: ${sorted(this.statuses)}; codes: ${sorted(this.codes)}`;
  }
}
