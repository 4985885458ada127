#!/usr/bin/env node
/**
 * The `airlock` command. Machine-readable output goes to stdout, logs and
 * progress to stderr (DESIGN §3), so `npm run --silent airlock -- token` can be
 * captured by scripts.
 *
 * This file only reads the command and dispatches: each command lives in
 * `commands/<name>.ts`, shared process helpers in `lib/`. `audit` (Redis, the
 * export store) and each command's heavy modules load only when that command runs.
 */
import { loadConfig } from '../config/env.ts';
import { formatPolicyProblem } from '../config/policy-file.ts';
import { AirlockError, asAirlockError } from '../errors.ts';
import { configCheck } from './commands/config-check.ts';
import { dev } from './commands/dev.ts';
import { emulator } from './commands/emulator.ts';
import { policyCheck } from './commands/policy-check.ts';
import { serve } from './commands/serve.ts';
import { token } from './commands/token.ts';
import { stderr } from './lib/process.ts';

const HELP = `airlock — approval gateway for AI agents that query Snowflake

Usage:
  airlock dev                               everything in one process on embedded defaults
  airlock serve [--roles api,worker,slack]  production entry point (all roles by default; slack when
                                            SLACK_BOT_TOKEN is set)
  airlock emulator [--port N] [--db FILE] [--seed demo] [--account A] [--user U]
                   [--password P] [--public-key FILE] [--public-key-2 FILE]
                                            run the Snowflake-wire emulator alone
  airlock demo [--wait SECONDS]             a scripted agent against the running \`airlock dev\`: a safe
                                            read, a PII read, a DROP, an exfiltration and a typo, and
                                            what the agent sees of each (\`npm run demo\`; docs/sandbox.md)
  airlock token [--agent NAME] [--owner EMAIL] [--groups a,b] [--ttl SECONDS] [--reviewer]
                                            print a bearer token from the running dev issuer
  airlock mcp --url URL                     Airlock's MCP server on stdio for an agent, a client of the
                                            Airlock at URL (token: AIRLOCK_TOKEN, or AIRLOCK_CLIENT_ID
                                            and AIRLOCK_CLIENT_SECRET); see docs/mcp.md
  airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]
                                            evaluate SQL against the policy without running it.
                                            With SQL: a readable decision (--json: the decision
                                            JSON on one line). Without: JSON lines on stdin,
                                            {"sql": "...", "agent": "...", "groups": [...]}, one
                                            decision (or {"error":…,"line":N}) per line on stdout.
                                            Exit 0 whatever the decisions; 2 on a usage error or
                                            an invalid policy.
  airlock config check [--roles api,worker,slack]
                                            validate the environment, the policy file
                                            (AIRLOCK_POLICY, else the shipped default) and what
                                            each role needs (the roles \`serve\` runs by default);
                                            print every problem with its path
  airlock audit verify                      walk the audit hash chain (Redis and exports); exit 1
                                            naming the first edited, removed or reordered event
  airlock audit export [--since ISO] [--ocsf] [--no-trim] [--retention SECONDS]
                                            export closed windows of audit events to
                                            AIRLOCK_EXPORT_S3_BUCKET or AIRLOCK_EXPORT_DIR
  airlock help                              this text

Configuration comes from the environment; see README.md. The policy file is
described in docs/policy.md.`;

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
    case 'demo': {
      const { demo } = await import('./commands/demo.ts');
      return demo(rest);
    }
    case 'mcp': {
      const { mcp } = await import('./commands/mcp.ts');
      return mcp(rest);
    }
    case 'policy':
      if (rest[0] === 'check') return policyCheck(rest.slice(1));
      stderr('usage: airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]');
      return 2;
    case 'audit': {
      const { runAudit } = await import('./commands/audit.ts');
      return runAudit(rest, loadConfig(process.env));
    }
    case 'config':
      if (rest[0] === 'check') return configCheck(rest.slice(1));
      stderr('usage: airlock config check [--roles api,worker,slack]');
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
