/**
 * The extra token-request parameters of the dev issuer, encoded by the client
 * and decoded (and re-validated) by the issuer, so both sides agree.
 */
import { AirlockError } from '../errors.ts';

/** What a dev token should say about its agent. */
export interface DevTokenRequest {
  /** Agent id; becomes the OAuth client_id and so the token's `sub`. */
  agent: string;
  /** The owner's e-mail. */
  owner?: string;
  groups?: string[];
  /** Display name; defaults to the agent id at verification. */
  name?: string;
  /** Defaults to {@link DEFAULT_DEV_SCOPES}. */
  scopes?: string[];
  /** Lifetime; default {@link DEFAULT_DEV_TTL_SECONDS}, at most {@link MAX_DEV_TTL_SECONDS}. */
  ttlSeconds?: number;
}

/** Scopes the dev resource server knows. */
export const DEV_SCOPES = ['airlock:query', 'airlock:review'] as const;
/** Scopes granted when none are requested: an agent, not a reviewer. */
export const DEFAULT_DEV_SCOPES = ['airlock:query'];
/** Eight hours: one working session of an agent without re-minting. */
export const DEFAULT_DEV_TTL_SECONDS = 8 * 3600;
export const MAX_DEV_TTL_SECONDS = 7 * 24 * 3600;

const AGENT = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$/;
const EMAIL = /^[^\s@,]{1,200}@[^\s@,]{1,200}$/;
const GROUP = /^[^\s,]{1,128}$/;

/** True when `id` may name a dev agent (and so a dev OAuth client). */
export function isValidAgentId(id: string): boolean {
  return AGENT.test(id);
}

/** Parsed, validated extra parameters. */
export interface DevTokenParams {
  owner?: string;
  groups?: string[];
  name?: string;
  ttlSeconds: number;
}

function check(problem: string | undefined): void {
  if (problem) throw new AirlockError('BAD_REQUEST', problem);
}

function validate(p: { agent?: string; owner?: string; groups?: string[]; name?: string; ttlSeconds?: number }): void {
  check(p.agent !== undefined && !AGENT.test(p.agent) ? 'agent must be 1-128 letters, digits or . _ @ : + - (starting with a letter or digit)' : undefined);
  check(p.owner !== undefined && !EMAIL.test(p.owner) ? 'owner must be an e-mail address' : undefined);
  check(p.groups?.some((g) => !GROUP.test(g)) ? 'groups must be names without spaces or commas' : undefined);
  check(p.groups !== undefined && p.groups.length > 64 ? 'at most 64 groups' : undefined);
  check(p.name !== undefined && (p.name.trim() === '' || p.name.length > 200) ? 'name must be 1-200 characters' : undefined);
  check(
    p.ttlSeconds !== undefined && (!Number.isInteger(p.ttlSeconds) || p.ttlSeconds < 1 || p.ttlSeconds > MAX_DEV_TTL_SECONDS)
      ? `ttl must be a whole number of seconds between 1 and ${MAX_DEV_TTL_SECONDS}`
      : undefined,
  );
}

/** Client side: the form parameters of the token request. Throws BAD_REQUEST on bad input. */
export function encodeDevTokenParams(req: DevTokenRequest): Record<string, string> {
  validate(req);
  const scopes = req.scopes ?? DEFAULT_DEV_SCOPES;
  const params: Record<string, string> = { scope: scopes.join(' ') };
  if (req.owner !== undefined) params.owner = req.owner;
  if (req.groups !== undefined && req.groups.length > 0) params.groups = req.groups.join(',');
  if (req.name !== undefined) params.name = req.name;
  if (req.ttlSeconds !== undefined) params.ttl = String(req.ttlSeconds);
  return params;
}

function single(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AirlockError('BAD_REQUEST', `${key} must be given once`);
  return value;
}

/** Issuer side: read the extra parameters from a token request body. Throws BAD_REQUEST. */
export function decodeDevTokenParams(body: Record<string, unknown> | undefined): DevTokenParams {
  const b = body ?? {};
  const owner = single(b, 'owner');
  const groupsText = single(b, 'groups');
  const name = single(b, 'name');
  const ttlText = single(b, 'ttl');
  const groups = groupsText === undefined ? undefined : groupsText.split(',').filter((g) => g !== '');
  const ttlSeconds = ttlText === undefined ? undefined : /^\d{1,9}$/.test(ttlText) ? Number(ttlText) : Number.NaN;
  const parsed = { owner, groups, name, ttlSeconds };
  validate(parsed);
  return {
    ...(owner === undefined ? {} : { owner }),
    ...(groups === undefined ? {} : { groups }),
    ...(name === undefined ? {} : { name }),
    ttlSeconds: ttlSeconds ?? DEFAULT_DEV_TTL_SECONDS,
  };
}
