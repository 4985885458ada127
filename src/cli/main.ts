#!/usr/bin/env node
/**
 * The `airlock` command. Machine-readable output goes to stdout, logs and
 * progress to stderr (DESIGN §3), so `npm run --silent airlock -- token` can be
 * captured by scripts.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkEnv, loadConfig, type Config } from '../config/env.ts';
import {
  DEFAULT_POLICY_PATH,
  formatPolicyProblem,
  loadPolicyFile,
  policyPathFrom,
  policyProblemsOf,
} from '../config/policy-file.ts';
import { AirlockError, asAirlockError, type AirlockErrorCode } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import type { Decision } from '../policy/decision.ts';
import type { PolicyEngine } from '../policy/engine.ts';

const HELP = `airlock — approval gateway for AI agents that query Snowflake

Usage:
  airlock dev                               everything in one process on embedded defaults
  airlock serve [--roles api,worker,slack]  production entry point (all roles by default; slack when
                                            SLACK_BOT_TOKEN is set)
  airlock emulator [--port N] [--db FILE] [--seed demo] [--account A] [--user U]
                   [--password P] [--public-key FILE]
                                            run the Snowflake-wire emulator alone
  airlock token [--agent NAME] [--owner EMAIL] [--groups a,b] [--ttl SECONDS] [--reviewer]
                                            print a bearer token from the running dev issuer
  airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]
                                            evaluate SQL against the policy without running it.
                                            With SQL: a readable decision (--json: the decision
                                            JSON on one line). Without: JSON lines on stdin,
                                            {"sql": "...", "agent": "...", "groups": [...]}, one
                                            decision (or {"error":…,"line":N}) per line on stdout.
                                            Exit 0 whatever the decisions; 2 on a usage error or
                                            an invalid policy.
  airlock config check                      validate the environment and the policy file
                                            (AIRLOCK_POLICY, else the shipped default); print
                                            every problem with its path
  airlock audit verify                      walk the audit hash chain (Redis and exports); exit 1
                                            naming the first edited, removed or reordered event
  airlock audit export [--since ISO] [--ocsf] [--no-trim] [--retention SECONDS]
                                            export closed windows of audit events to
                                            AIRLOCK_EXPORT_S3_BUCKET or AIRLOCK_EXPORT_DIR
  airlock help                              this text

Configuration comes from the environment; see README.md. The policy file is
described in docs/policy.md.`;

function stderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function logger(config?: Config): Logger {
  return createLogger({ level: config?.AIRLOCK_LOG_LEVEL ?? 'info' });
}

/** Wait for SIGINT/SIGTERM, then run `close` once. */
function onShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = () => {
      if (closing) {
        stderr('forced exit');
        process.exit(130);
      }
      closing = true;
      stderr('shutting down… (again to force)');
      // Never hang on a stuck dependency: give up after 15 s.
      setTimeout(() => {
        stderr('shutdown took longer than 15 s; exiting anyway');
        process.exit(1);
      }, 15_000).unref();
      close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Human-readable logs for `airlock dev` when pino-pretty (a dev dependency) is installed. */
async function devLogger(config: Config): Promise<Logger> {
  try {
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({ destination: 2, colorize: process.stderr.isTTY, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss' });
    return createLogger({ level: config.AIRLOCK_LOG_LEVEL, destination: stream });
  } catch {
    return logger(config);
  }
}

async function dev(): Promise<number> {
  const config = loadConfig(process.env);
  const log = await devLogger(config);
  const { startDev } = await import('../app/dev.ts');
  stderr('Starting Airlock dev environment…');
  const env = await startDev({ config, logger: log, progress: (l) => stderr(`  ${l}`) });
  const token = await env.mintToken({ agent: 'demo-agent', owner: 'dev@example.com', groups: ['analysts'] });
  stderr(`
Airlock is ready at ${env.apiUrl}

Try a query (the token is for agent "demo-agent", owner dev@example.com):

  curl -s ${env.apiUrl}/v1/queries \\
    -H "Authorization: Bearer ${token}" \\
    -H 'Content-Type: application/json' \\
    -d '{"sql":"select customer_id, segment, city from customers limit 3","waitMs":5000}'

${
    config.SLACK_BOT_TOKEN && config.SLACK_SIGNING_SECRET && config.SLACK_APPROVAL_CHANNEL
      ? `Slack approvals: cards go to ${config.SLACK_APPROVAL_CHANNEL}; Slack sends clicks to ${env.apiUrl}/slack/events.`
      : `Slack approvals are OFF: queries the policy sends to review wait in pending_approval until they expire or are
cancelled. Approval cards need SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APPROVAL_CHANNEL (README, "Slack").`
  }

More tokens: npm run --silent airlock -- token --agent NAME --owner EMAIL
Stop with Ctrl-C.`);
  await onShutdown(() => env.close());
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { roles: { type: 'string' } }, strict: true });
  const config = loadConfig(process.env);
  const log = logger(config);
  const { buildApp, ALL_ROLES } = await import('../app/build.ts');
  // By default every role; the slack role only when Slack is configured (SLACK_BOT_TOKEN).
  const roles = values.roles ? values.roles.split(',').map((r) => r.trim()) : ALL_ROLES.filter((r) => r !== 'slack' || config.SLACK_BOT_TOKEN);
  const unknown = roles.filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new AirlockError('BAD_REQUEST', `Unknown role(s): ${unknown.join(', ')}. Roles: ${ALL_ROLES.join(', ')}.`);
  }
  const app = await buildApp(config, { roles: roles as typeof ALL_ROLES[number][], logger: log });
  const url = await app.listen();
  stderr(`airlock serving roles ${roles.join(',')}${url ? ` on ${url}` : ''}`);
  await onShutdown(() => app.close());
  return 0;
}

async function emulator(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      account: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'public-key': { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? 8085 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AirlockError('BAD_REQUEST', `--port must be 0-65535, not ${values.port}.`);
  if (values.seed !== undefined && values.seed !== 'demo' && values.seed !== 'none') {
    throw new AirlockError('BAD_REQUEST', `--seed takes "demo" or "none", not "${values.seed}".`);
  }
  let publicKeyPem: string | undefined;
  if (values['public-key']) {
    try {
      publicKeyPem = await readFile(values['public-key'], 'utf8');
    } catch {
      throw new AirlockError('BAD_REQUEST', `Cannot read the public key file ${values['public-key']}.`);
    }
  }
  const password = values.password ?? (publicKeyPem ? undefined : 'airlock');
  const { startEmulator } = await import('../emulator/server.ts');
  stderr('Starting the Snowflake-wire emulator…');
  const t0 = performance.now();
  const emu = await startEmulator({
    host: values.host ?? '127.0.0.1',
    port,
    seed: values.seed === 'none' ? 'none' : 'demo',
    account: values.account ?? 'EMU',
    user: values.user ?? 'AIRLOCK',
    ...(values.db ? { dbFile: values.db } : {}),
    ...(password ? { password } : {}),
    ...(publicKeyPem ? { publicKeyPem } : {}),
    logger: logger(),
  });
  stderr(`ready in ${Math.round(performance.now() - t0)} ms; account ${values.account ?? 'EMU'}, user ${values.user ?? 'AIRLOCK'}` +
    `${password && !values.password ? ', password airlock' : ''}${publicKeyPem ? ', key pair accepted' : ''}`);
  process.stdout.write(`${emu.url}\n`);
  await onShutdown(() => emu.close());
  return 0;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: 'string' },
      owner: { type: 'string' },
      groups: { type: 'string' },
      ttl: { type: 'string' },
      reviewer: { type: 'boolean' },
      'state-dir': { type: 'string' },
    },
    strict: true,
  });
  const { requestDevToken } = await import('../identity/dev-token.ts');
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) throw new AirlockError('BAD_REQUEST', '--ttl must be a positive number of seconds.');
  const jwt = await requestDevToken({
    stateDir: values['state-dir'] ?? '.airlock',
    agent: values.agent ?? 'demo-agent',
    ...(values.owner ? { owner: values.owner } : {}),
    ...(values.groups ? { groups: values.groups.split(',').map((g) => g.trim()).filter(Boolean) } : {}),
    ...(ttl ? { ttlSeconds: ttl } : {}),
    // A reviewer may also search and replay every agent's sessions (GET /v1/sessions).
    ...(values.reviewer ? { scopes: ['airlock:query', 'airlock:review'] } : {}),
  });
  process.stdout.write(`${jwt}\n`);
  return 0;
}

/** Print every problem with the environment and the policy file; exit 1 when there is any. */
async function configCheck(): Promise<number> {
  const { config, problems } = checkEnv(process.env);
  const lines = problems.map((p) => `${p.variable}: ${p.message}`);
  // With an invalid environment there is no Config; still check the file it names.
  const policyPath = config ? policyPathFrom(config) : process.env.AIRLOCK_POLICY || DEFAULT_POLICY_PATH;
  try {
    const policy = await loadPolicyFile(policyPath);
    if (lines.length === 0) {
      stderr(`policy ${policyPath}: OK (${policy.file.rules.length} rules, version ${policy.version.slice(0, 12)})`);
    }
  } catch (err) {
    const policyProblems = policyProblemsOf(err);
    if (policyProblems.length === 0) throw err;
    for (const p of policyProblems) lines.push(`policy ${policyPath}: ${formatPolicyProblem(p)}`);
  }
  if (lines.length === 0) {
    process.stdout.write('configuration OK\n');
    return 0;
  }
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 1;
}

/** Request fields accepted on each stdin line of `airlock policy check`. */
interface CheckRequest {
  sql: string;
  agent?: string;
  groups?: string[];
}

const splitGroups = (s: string): string[] => s.split(',').map((g) => g.trim()).filter(Boolean);

/**
 * `airlock policy check`: evaluate SQL against a policy without running it.
 * Exit 0 whatever the decisions say; 2 for usage errors and an invalid policy.
 */
async function policyCheck(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        policy: { type: 'string' },
        json: { type: 'boolean', default: false },
        agent: { type: 'string' },
        groups: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    return usage(`give the SQL as one argument (quote it), or none to read JSON lines from stdin; got ${positionals.length} arguments`);
  }
  const config = loadConfig(process.env);
  const policyPath = values.policy ?? policyPathFrom(config);
  let engine: PolicyEngine;
  try {
    const policy = await loadPolicyFile(policyPath);
    const { createPolicyEngine } = await import('../policy/engine.ts');
    engine = createPolicyEngine(policy, { cacheSize: 1000 });
  } catch (err) {
    const problems = policyProblemsOf(err);
    if (problems.length === 0) throw err;
    stderr(`airlock: POLICY_INVALID: ${(err as Error).message}`);
    for (const p of problems) stderr(`  ${formatPolicyProblem(p)}`);
    return 2;
  }
  const defaults = {
    ...(values.agent ? { agent: values.agent } : {}),
    ...(values.groups !== undefined ? { groups: splitGroups(values.groups) } : {}),
  };
  const { checkSqlText } = await import('../queries/service.ts');
  const evaluate = (req: CheckRequest): Decision => {
    checkSqlText(req.sql, config.AIRLOCK_MAX_SQL_BYTES);
    const groups = req.groups ?? defaults.groups;
    const agent = req.agent ?? defaults.agent;
    return engine.evaluate(req.sql, { ...(agent !== undefined ? { agent } : {}), ...(groups !== undefined ? { groups } : {}) });
  };

  const sql = positionals[0];
  if (sql !== undefined) {
    let decision: Decision;
    try {
      decision = evaluate({ sql });
    } catch (err) {
      const e = asAirlockError(err);
      if (e.code === 'SQL_INVALID' || e.code === 'SQL_TOO_LARGE') return usage(`${e.code}: ${e.message}`, false);
      throw err;
    }
    process.stdout.write(values.json ? `${JSON.stringify(decision)}\n` : `${formatDecision(decision)}\n`);
    return 0;
  }
  if (process.stdin.isTTY) {
    stderr('Reading JSON lines from stdin, e.g. {"sql": "select 1"}; end with Ctrl-D. (Or: airlock policy check "SQL")');
  }
  return checkJsonLines(evaluate, config.AIRLOCK_MAX_SQL_BYTES);
}

function usage(message: string, hint = true): number {
  stderr(`airlock: ${message}`);
  if (hint) stderr('usage: airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]');
  return 2;
}

/** An error for one stdin line: reported on its line, and the run goes on. */
class LineError extends Error {
  constructor(
    readonly code: AirlockErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Parse one stdin line into a request, or throw a {@link LineError} that says what is wrong. */
function parseRequestLine(bytes: Buffer): CheckRequest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LineError('INVALID_JSON', 'The line is not valid UTF-8; JSON lines must be UTF-8 text.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LineError('INVALID_JSON', `The line is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineError('VALIDATION_FAILED', 'Each line must be a JSON object like {"sql": "select 1"}.');
  }
  const { sql, agent, groups } = value as Record<string, unknown>;
  if (sql === undefined) throw new LineError('VALIDATION_FAILED', 'The object has no "sql" field.');
  if (typeof sql !== 'string') throw new LineError('VALIDATION_FAILED', '"sql" must be a string.');
  if (agent !== undefined && (typeof agent !== 'string' || agent === '')) {
    throw new LineError('VALIDATION_FAILED', '"agent" must be a non-empty string when given.');
  }
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) {
    throw new LineError('VALIDATION_FAILED', '"groups" must be an array of strings when given.');
  }
  return { sql, ...(agent !== undefined ? { agent } : {}), ...(groups !== undefined ? { groups } : {}) };
}

/**
 * Lines of bytes from a stream, without decoding (so invalid UTF-8 is reported
 * per line) and without ever holding more than `maxBytes` of one line: a longer
 * line is skipped up to its newline and reported as too long.
 */
async function* byteLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<{ line: number; bytes?: Buffer; length: number }> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 1;
  const take = (chunk: Buffer) => {
    if (length + chunk.length <= maxBytes) parts.push(chunk);
    else parts = [];
    length += chunk.length;
  };
  const finish = () => {
    const out = length <= maxBytes ? { line, bytes: Buffer.concat(parts, length), length } : { line, length };
    parts = [];
    length = 0;
    line++;
    return out;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (length > 0) yield finish();
}

/** The stdin mode of `airlock policy check`: one decision or one error per non-blank line. */
async function checkJsonLines(evaluate: (req: CheckRequest) => Decision, maxSqlBytes: number): Promise<number> {
  // JSON escapes can make the line longer than the SQL it carries; past this it is too big whatever it holds.
  const maxLineBytes = 4 * maxSqlBytes + 64 * 1024;
  const counts = { allow: 0, review: 0, deny: 0, errors: 0 };
  const write = async (value: unknown) => {
    if (!process.stdout.write(`${JSON.stringify(value)}\n`)) await once(process.stdout, 'drain');
  };
  for await (const { line, bytes, length } of byteLines(process.stdin, maxLineBytes)) {
    let out: unknown;
    try {
      if (!bytes) throw new LineError('SQL_TOO_LARGE', `The line is ${length} bytes; lines may be at most ${maxLineBytes} bytes (the SQL at most ${maxSqlBytes}, AIRLOCK_MAX_SQL_BYTES).`);
      // Blank lines (and a trailing newline) carry no request; CRLF input is fine.
      const trimmed = bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
      if (trimmed.every((b) => b === 32 || b === 9)) continue;
      const decision = evaluate(parseRequestLine(trimmed));
      counts[decision.action]++;
      out = decision;
    } catch (err) {
      counts.errors++;
      const e = err instanceof LineError ? err : asAirlockError(err);
      out = { error: { code: e.code, message: e.message }, line };
    }
    await write(out);
  }
  stderr(`policy check: ${counts.allow} allow, ${counts.review} review, ${counts.deny} deny, ${counts.errors} bad line${counts.errors === 1 ? '' : 's'}`);
  return 0;
}

/**
 * A decision for people: action and risk, reasons with codes and rules, approvals,
 * then each statement. Statements are numbered from 1 here, as in reason messages
 * (the JSON `statement` field is a 0-based index).
 */
function formatDecision(d: Decision): string {
  const out: string[] = [];
  out.push(`${d.action.toUpperCase()}  risk ${d.risk}${d.complete ? '' : '  (analysis incomplete: never allowed)'}`);
  if (d.reasons.length > 0) {
    out.push('', 'reasons:');
    for (const r of d.reasons) {
      // A column names its table too; show the table only when no column is named.
      const where = [r.rule ? `rule ${r.rule}` : '', `statement ${r.statement + 1}`, r.column ? `column ${r.column}` : r.table ? `table ${r.table}` : '']
        .filter(Boolean)
        .join(', ');
      out.push(`  ${r.code} (${where})`, `    ${r.message}`);
    }
  }
  if (d.action === 'review') {
    const from = d.approvals.groups.length > 0 ? ` from ${d.approvals.groups.join(', ')}` : '';
    const expires = d.approvals.expiresInSeconds ? `, expires after ${duration(d.approvals.expiresInSeconds)}` : '';
    out.push('', `approvals: ${d.approvals.required}${from}${expires}`);
  }
  if (d.limits?.maxRows !== undefined) out.push('', `row cap: ${d.limits.maxRows}`);
  d.statements.forEach((s, i) => {
    const what = [s.kind, s.object].filter(Boolean).join(' ');
    out.push('', `statement ${i + 1}: ${what}${s.complete ? '' : '  (incomplete)'}`);
    const list = (label: string, items: readonly string[] | undefined) => {
      if (items && items.length > 0) out.push(`  ${label.padEnd(12)}${items.join(', ')}`);
    };
    list('tables:', s.tables);
    list('writes:', s.writes);
    list('columns:', s.columns);
    list('sensitive:', s.sensitive?.map((t) => `${t.name} (${t.type}${t.via.length > 0 ? `, in ${t.via.join('/')}` : ''})`));
    list('categories:', s.categories);
    list('flags:', s.flags);
    list('not known:', s.gaps);
  });
  out.push('', `fingerprint: ${d.fingerprint}`);
  return out.join('\n');
}

function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

async function main(argv: string[]): Promise<number> {
  // snowflake-sdk probes cloud metadata endpoints on import unless told not to; Airlock never needs it.
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
  // The AWS SDK inside snowflake-sdk warns that its future releases need Node 22; not actionable for users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return dev();
    case 'serve':
      return serve(rest);
    case 'emulator':
      return emulator(rest);
    case 'token':
      return token(rest);
    case 'policy':
      if (rest[0] === 'check') return policyCheck(rest.slice(1));
      stderr('usage: airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]');
      return 2;
    case 'audit': {
      const { runAudit } = await import('./audit.ts');
      return runAudit(rest, loadConfig(process.env));
    }
    case 'config':
      if (rest[0] === 'check') return configCheck();
      stderr('usage: airlock config check');
      return 2;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    default:
      stderr(`airlock: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
      ? new AirlockError('BAD_REQUEST', err.message)
      : asAirlockError(err);
    if (e.code === 'INTERNAL') stderr(`airlock: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    else stderr(`airlock: ${e.code}: ${e.message}`);
    // Configuration problems name a variable; policy problems a path in the file (and a line).
    const problems = (e.details as { problems?: Array<{ variable?: string; path?: string; message: string; line?: number }> }).problems;
    if (Array.isArray(problems)) {
      for (const p of problems) stderr(`  ${p.variable !== undefined ? `${p.variable}: ${p.message}` : formatPolicyProblem({ path: p.path ?? '', message: p.message, ...(p.line !== undefined ? { line: p.line } : {}) })}`);
    }
    process.exit(1);
  },
);
