import type { JWTPayload } from 'jose';
import type { AgentIdentity } from './identity-from-claims.ts';

interface CacheEntry {
  identity: AgentIdentity;
  exp: number;
  nbf: number | undefined;
  cachedUntil: number;
}

/**
 * Verified tokens' identities, reused for a short while (never past `exp`,
 * never before `nbf`, both with the clock skew), bounded in size: the oldest
 * entry goes first.
 */
export class IdentityCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries: number,
    private readonly skewSeconds: number,
  ) {}

  /** The cached identity of `token`, if still valid at `nowSeconds`. */
  get(token: string, nowSeconds: number): AgentIdentity | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const skew = this.skewSeconds;
    const valid =
      nowSeconds < entry.cachedUntil && entry.exp > nowSeconds - skew && (entry.nbf === undefined || entry.nbf <= nowSeconds + skew);
    if (valid) return entry.identity;
    this.entries.delete(token);
    return undefined;
  }

  /** Keep a verified token's identity (not when caching is off or the token has no `exp`). */
  remember(token: string, payload: JWTPayload, identity: AgentIdentity, nowSeconds: number): void {
    if (this.ttlSeconds <= 0 || payload.exp === undefined) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { identity, exp: payload.exp, nbf: payload.nbf, cachedUntil: nowSeconds + this.ttlSeconds });
  }
}
