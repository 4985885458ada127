/**
 * Map verified JWT claims to the agent identity Airlock works with.
 *
 * Pure: it runs only after the signature and time checks passed. Claim names
 * are configurable because IdPs disagree (`groups`, `roles`, `realm_access.roles`).
 */
import type { JWTPayload } from 'jose';
import { AirlockError } from '../errors.ts';

/** Who is calling: an agent (a machine client) and the human who owns it. */
export interface AgentIdentity {
  /** Stable id: the `sub` claim, else `client_id`. */
  id: string;
  /** Display name from the name claim, else the id. */
  name: string;
  /** Owner's e-mail from the owner claim; used for separation of duties. */
  owner?: string;
  /** Group memberships from the groups claim (array, or space/comma separated string). */
  groups: string[];
  /** OAuth scopes from `scope` (space separated) or `scp` (array or string). */
  scopes: string[];
  /** The issuer that vouched for the agent (exact `iss`). */
  issuer: string;
  /** `jti`, when the IdP sets one; useful in audit records. */
  tokenId?: string;
  /** When the token stops being accepted (`exp`). */
  expiresAt: Date;
}

/** Which claims hold owner, groups and name (AIRLOCK_OIDC_*_CLAIM). */
export interface ClaimNames {
  owner: string;
  groups: string;
  name: string;
}

const MAX_ID = 256;
const MAX_TEXT = 320;
const MAX_GROUPS = 256;

/**
 * Read a claim by name; a dotted name (`realm_access.roles`) walks nested
 * objects when no top-level claim has that exact name.
 */
export function readClaim(payload: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  if (!name.includes('.')) return undefined;
  let node: unknown = payload;
  for (const part of name.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A list claim as strings: arrays as they are, strings split on spaces and commas; deduplicated. */
export function listClaim(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item !== 'string') continue;
    const trimmed = item.trim();
    if (trimmed !== '' && trimmed.length <= MAX_TEXT) out.add(trimmed);
    if (out.size >= MAX_GROUPS) break;
  }
  return [...out];
}

function textClaim(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' || trimmed.length > MAX_TEXT ? undefined : trimmed;
}

/** Build the identity; throws `AUTH_INVALID` when the token names no subject or client. */
export function identityFromClaims(payload: JWTPayload, names: ClaimNames): AgentIdentity {
  const claims = payload as Record<string, unknown>;
  const id = textClaim(claims.sub) ?? textClaim(claims.client_id);
  if (id === undefined || id.length > MAX_ID) {
    throw new AirlockError('AUTH_INVALID', 'The access token names no subject (sub) or client (client_id).');
  }
  if (typeof payload.exp !== 'number' || typeof payload.iss !== 'string') {
    // jwtVerify already enforced both; this guards against a future change there.
    throw new AirlockError('AUTH_INVALID', 'The access token has no expiry or issuer.');
  }
  const scopes = listClaim(claims.scope ?? claims.scp);
  const owner = textClaim(readClaim(claims, names.owner));
  const tokenId = textClaim(payload.jti);
  // Frozen: the verifier caches and shares one identity between requests.
  return Object.freeze({
    id,
    name: textClaim(readClaim(claims, names.name)) ?? id,
    ...(owner === undefined ? {} : { owner }),
    groups: Object.freeze(listClaim(readClaim(claims, names.groups))) as string[],
    scopes: Object.freeze(scopes) as string[],
    issuer: payload.iss,
    ...(tokenId === undefined ? {} : { tokenId }),
    expiresAt: new Date(payload.exp * 1000),
  });
}
