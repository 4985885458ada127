/**
 * The environment, validated once by one zod schema (DESIGN §3).
 *
 * Nothing else in Airlock reads `process.env`: the composition root calls
 * {@link loadConfig} and passes slices of the frozen result down.
 */
import { z } from 'zod';
import { AirlockError } from '../errors.ts';
import { DEFAULT_RESULT_CAPS } from '../queries/result-caps.ts';
import { OFFLOAD_BYTES } from '../analysis/offload.ts';
import { ANALYSIS_POOL } from '../analysis/pool.ts';
import { WAREHOUSE_DEFAULTS } from '../warehouse/snowflake/settings.ts';
import { DEFAULT_EXPORT_WINDOW_SECONDS } from '../audit/export.ts';
import { parseIdentityAliases } from '../approvals/identity.ts';
import { clusterPrefix, parseClusterNodes } from './redis-cluster.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.url();
const optionalString = z.string().min(1).optional();

/** Every variable Airlock reads, with defaults. Names are public contract. */
export const envSchema = z
  .object({
    REDIS_URL: url.optional(),
    // Redis Cluster: seed nodes `host:port,…` (or redis:// / rediss:// URLs with credentials); docs/deployment.md#redis-cluster.
    REDIS_CLUSTER_NODES: optionalString,
    AIRLOCK_REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_{}.-]+$/, 'use letters, digits and : _ - . { } only')
      .default('airlock'),
    AIRLOCK_POLICY: optionalString,
    AIRLOCK_HOST: z.string().min(1).default('127.0.0.1'),
    AIRLOCK_PORT: int(0, 65535).default(8080),
    AIRLOCK_PUBLIC_URL: url.optional(),
    // `airlock mcp` on an agent's machine: the agent's bearer token, or OAuth client credentials to get one (docs/mcp.md).
    AIRLOCK_TOKEN: optionalString,
    AIRLOCK_CLIENT_ID: optionalString,
    AIRLOCK_CLIENT_SECRET: optionalString,
    AIRLOCK_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    AIRLOCK_TRUST_PROXY: z
      .string()
      .default('false')
      .transform((v, ctx): boolean | string => {
        const t = v.trim();
        if (t === 'false') return false;
        if (t === 'true') return true;
        // Addresses or CIDR ranges of the proxies in front of Airlock, comma separated.
        if (/^[0-9A-Fa-f:./]+(\s*,\s*[0-9A-Fa-f:./]+)*$/.test(t)) return t;
        ctx.addIssue({ code: 'custom', message: 'false, true, or the proxies\' addresses or CIDR ranges separated by commas (e.g. 10.0.0.0/8,127.0.0.1)' });
        return z.NEVER;
      }),
    // The Snowflake-wire door: unmodified Snowflake drivers log in to the API's port with OAuth (docs/snowflake-wire.md).
    AIRLOCK_SNOWFLAKE_WIRE: z.enum(['on', 'off']).default('on'),
    AIRLOCK_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(256 * 1024),
    AIRLOCK_MAX_SQL_BYTES: int(16, 1024 * 1024).default(100_000),
    // Statements larger than this are analysed on worker threads, off the event loop (docs/reliability.md#large-sql-off-the-event-loop).
    AIRLOCK_ANALYSIS_OFFLOAD_BYTES: int(0, 1024 * 1024).default(OFFLOAD_BYTES),
    AIRLOCK_ANALYSIS_THREADS: int(1, 64).default(ANALYSIS_POOL.threads),
    AIRLOCK_ANALYSIS_QUEUE: int(0, 10_000).default(ANALYSIS_POOL.queueLimit),
    AIRLOCK_ANALYSIS_TIMEOUT_MS: int(100, 600_000).default(ANALYSIS_POOL.timeoutMs),
    AIRLOCK_MAX_WAIT_MS: int(0, 120_000).default(30_000),
    AIRLOCK_RESULT_TTL_SECONDS: int(10, 7 * 24 * 3600).default(3600),
    AIRLOCK_MAX_ROWS: int(1, 10_000_000).default(100_000),
    // One row can carry a table (LISTAGG, ARRAY_AGG): results are capped by cells and bytes too (src/queries/result-caps.ts).
    AIRLOCK_MAX_RESULT_CELLS: int(1, 1_000_000_000).default(DEFAULT_RESULT_CAPS.maxCells),
    AIRLOCK_MAX_RESULT_BYTES: int(1024, 1024 * 1024 * 1024).default(DEFAULT_RESULT_CAPS.maxBytes),
    AIRLOCK_MAX_CELL_BYTES: int(64, 16 * 1024 * 1024).default(DEFAULT_RESULT_CAPS.maxCellBytes),
    AIRLOCK_STATEMENT_TIMEOUT_MS: int(100, 24 * 3600 * 1000).default(WAREHOUSE_DEFAULTS.statementTimeoutMs),
    AIRLOCK_SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(10),
    // How often the policy file and the Snowflake key file are re-read besides directory events and SIGHUP (docs/operations.md); 0: never.
    AIRLOCK_RELOAD_POLL_SECONDS: int(0, 3600).default(10),
    AIRLOCK_WORKER_CONCURRENCY: int(1, 256).default(WAREHOUSE_DEFAULTS.poolSize),
    // As many connections as statements a worker runs at once: a smaller pool makes jobs wait inside the worker, holding their slot.
    AIRLOCK_WAREHOUSE_POOL_SIZE: int(1, 64).default(WAREHOUSE_DEFAULTS.poolSize),
    AIRLOCK_OIDC_OWNER_CLAIM: z.string().min(1).default('owner'),
    AIRLOCK_OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
    AIRLOCK_OIDC_NAME_CLAIM: z.string().min(1).default('name'),
    AIRLOCK_OIDC_ALGORITHMS: z
      .string()
      .default('RS256,ES256,PS256,EdDSA')
      .transform((s) => s.split(',').map((a) => a.trim()).filter(Boolean))
      .refine((algs) => algs.length > 0 && !algs.some((a) => a.toLowerCase() === 'none' || a.startsWith('HS')), {
        message: 'list asymmetric algorithms only (none and HS* are refused)',
      }),
    AIRLOCK_OIDC_CLOCK_SKEW_SECONDS: int(0, 300).default(30),
    AIRLOCK_AUDIT_RETENTION_SECONDS: int(3600, 10 * 365 * 24 * 3600).default(30 * 24 * 3600),
    AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS: int(60, 24 * 3600).default(DEFAULT_EXPORT_WINDOW_SECONDS),
    AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: int(0, 24 * 3600).default(300),
    AIRLOCK_REVIEWER_SCOPE: z
      .string()
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'one OAuth scope name (no spaces or quotes), or off')
      .default('airlock:review'),
    AIRLOCK_REVIEWER_GROUPS: z
      .string()
      .default('')
      .transform((s) => [...new Set(s.split(',').map((g) => g.trim()).filter(Boolean))]),
    AIRLOCK_IDENTITY_ALIASES: z
      .string()
      .default('')
      .transform((s, ctx) => {
        const { aliases, problems } = parseIdentityAliases(s);
        for (const p of problems) ctx.addIssue({ code: 'custom', message: `${p.entry}: ${p.message}` });
        return aliases;
      }),
    AIRLOCK_OWNERLESS_TOKENS: z.enum(['extra_approver', 'refuse_approval', 'refuse_token']).default('extra_approver'),
    AIRLOCK_SLACK_REVIEWERS: z
      .string()
      .default('')
      .transform((s) => [...new Set(s.split(',').map((g) => g.trim()).filter(Boolean))])
      .refine((ids) => ids.every((id) => /^[UWS][A-Z0-9]{2,}$/.test(id)), {
        message: 'Slack user ids (U…, W…) and user group ids (S…), comma separated',
      }),
    AIRLOCK_AUDIT_OCSF: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    AIRLOCK_MASKING_KEY: z
      .string()
      .min(32, 'use at least 32 characters of random text (e.g. `openssl rand -hex 32`)')
      .optional(),
    AIRLOCK_EXPORT_DIR: optionalString,
    AIRLOCK_EXPORT_S3_BUCKET: optionalString,
    AWS_ENDPOINT_URL_S3: url.optional(),
    SLACK_BOT_TOKEN: optionalString,
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString,
    SLACK_APPROVAL_CHANNEL: optionalString,
    SLACK_API_URL: url.optional(),
    SNOWFLAKE_ACCOUNT: optionalString,
    SNOWFLAKE_USER: optionalString,
    SNOWFLAKE_PRIVATE_KEY_PATH: optionalString,
    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: optionalString,
    SNOWFLAKE_WAREHOUSE: optionalString,
    SNOWFLAKE_ROLE: optionalString,
    SNOWFLAKE_DATABASE: optionalString,
    SNOWFLAKE_SCHEMA: optionalString,
    SNOWFLAKE_ACCESS_URL: url.optional(),
    OIDC_ISSUER: url.optional(),
    OIDC_AUDIENCE: optionalString,
  })
  .superRefine((env, ctx) => {
    if (env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE && !env.SNOWFLAKE_PRIVATE_KEY_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: ['SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'],
        message: 'set SNOWFLAKE_PRIVATE_KEY_PATH too; a passphrase alone is useless',
      });
    }
    if (env.AIRLOCK_MAX_CELL_BYTES > env.AIRLOCK_MAX_RESULT_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['AIRLOCK_MAX_CELL_BYTES'], message: 'must not be larger than AIRLOCK_MAX_RESULT_BYTES' });
    }
    if (env.REDIS_CLUSTER_NODES) {
      const cluster = parseClusterNodes(env.REDIS_CLUSTER_NODES);
      if ('error' in cluster) ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: cluster.error });
      if (env.REDIS_URL) ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both' });
    }
    if (env.OIDC_ISSUER && !env.OIDC_AUDIENCE) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_AUDIENCE'], message: 'required when OIDC_ISSUER is set' });
    }
    if (env.AIRLOCK_EXPORT_DIR && env.AIRLOCK_EXPORT_S3_BUCKET) {
      ctx.addIssue({
        code: 'custom',
        path: ['AIRLOCK_EXPORT_S3_BUCKET'],
        message: 'set either AIRLOCK_EXPORT_DIR or AIRLOCK_EXPORT_S3_BUCKET, not both',
      });
    }
  });

/** The parsed, frozen environment. */
export type Config = Readonly<z.infer<typeof envSchema>>;

/**
 * REDIS_URL, or the local default. Not a schema default because unset has a
 * second meaning: `airlock dev` then starts a private redis-server.
 */
export function redisUrl(config: Pick<Config, 'REDIS_URL'>): string {
  return config.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** One problem with one variable, for `airlock config check`. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Env names that belong to Airlock's namespace; anything else there is a typo. */
const KNOWN = new Set(Object.keys(envSchema.shape));

/** Validate without throwing; returns every problem found. */
export function checkEnv(env: NodeJS.ProcessEnv): { config?: Config; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith('AIRLOCK_') && !KNOWN.has(name)) {
      problems.push({ variable: name, message: 'unknown AIRLOCK_* variable (typo?)' });
    }
  }
  // Empty strings mean "unset", as in most shells' `FOO= cmd` usage.
  const input: Record<string, string> = {};
  for (const name of KNOWN) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ variable: issue.path.map(String).join('.') || '(environment)', message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) return { problems };
  // On a cluster every key of an install shares one hash slot: the prefix becomes a hash tag (config/redis-cluster.ts).
  const data = parsed.data.REDIS_CLUSTER_NODES ? { ...parsed.data, AIRLOCK_REDIS_PREFIX: clusterPrefix(parsed.data.AIRLOCK_REDIS_PREFIX) } : parsed.data;
  return { config: Object.freeze(data), problems };
}

/** Parse once and fail fast with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const { config, problems } = checkEnv(env);
  if (!config) {
    const list = problems.map((p) => `${p.variable}: ${p.message}`).join('; ');
    throw new AirlockError('CONFIG_INVALID', `Invalid configuration: ${list}`, { details: { problems } });
  }
  return config;
}
