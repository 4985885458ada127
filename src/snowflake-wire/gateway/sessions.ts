/**
 * Wire sessions in Redis: the agent a login verified, and Airlock's own
 * session and master tokens (short-lived, renewable, never the OIDC token).
 *
 * A token is `<kind>.<sessionId>.<secret>`; only the secret's sha256 is
 * stored, in the session's one hash, so any API replica can check it and a
 * leaked Redis dump holds no usable token. A session never outlives the OIDC
 * token it was opened with: the agent's authority ends with that token.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AirlockError } from '../../errors.ts';
import type { Requester } from '../../queries/types.ts';
import { SnowflakeWireError } from '../errors.ts';
import type { ParamValue } from '../parameters.ts';
import type { SessionTokens, WireContext } from '../port.ts';
import { gatewayError } from './codes.ts';
import type { WireKeys } from './keys.ts';

/** Lifetimes of the tokens, seconds (both also end with the OIDC token). */
export interface WireTokenLifetimes {
  sessionSeconds: number;
  masterSeconds: number;
}

/** The defaults: a session token for 10 minutes (the driver renews it), a master token for 4 hours. */
export const DEFAULT_LIFETIMES: WireTokenLifetimes = { sessionSeconds: 600, masterSeconds: 4 * 3600 };

/** A live wire session. */
export interface WireSession {
  id: string;
  requester: Requester;
  context: WireContext;
  parameters: Record<string, ParamValue>;
}

/** What a login opens a session with. */
export interface NewSession {
  requester: Requester;
  context: WireContext;
  parameters: Record<string, ParamValue>;
  /** When the OIDC token expires (ms since epoch). */
  notAfterMs: number;
}

/**
 * Swap the session token only if the stored hash is still the old one (two
 * renewals racing: one wins, the other's caller logs in again).
 * KEYS[1] session; ARGV[1] old hash, ARGV[2] new hash, ARGV[3] new expiry (ms).
 */
const RENEW_LUA = `
if redis.call('HGET', KEYS[1], 'st') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'stExp', ARGV[3])
return 1
`;

const sha = (secret: string) => createHash('sha256').update(secret).digest('hex');

function sameHash(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** `<kind>.<sessionId>.<secret>` → its parts, or undefined when it is not one of ours. */
function parseToken(token: string | undefined, kind: 'ST' | 'MT'): { sessionId: string; secret: string } | undefined {
  const parts = token?.split('.');
  if (parts?.length !== 3 || parts[0] !== kind || !/^\d{1,20}$/.test(parts[1]!) || parts[2]!.length < 32) return undefined;
  return { sessionId: parts[1]!, secret: parts[2]! };
}

const secret = () => randomBytes(32).toString('base64url');

/** Wire sessions of one install. */
export class WireSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: WireKeys,
    private readonly now: () => number,
    private readonly lifetimes: WireTokenLifetimes = DEFAULT_LIFETIMES,
  ) {}

  /** Open a session; its tokens. */
  async create(init: NewSession): Promise<SessionTokens> {
    const now = this.now();
    const masterExp = Math.min(now + this.lifetimes.masterSeconds * 1000, init.notAfterMs);
    const sessionExp = Math.min(now + this.lifetimes.sessionSeconds * 1000, masterExp);
    // Numeric like Snowflake's session ids; 15 random digits.
    const id = String(randomInt(1, 2 ** 47)).padStart(15, '1');
    const st = secret();
    const mt = secret();
    const key = this.keys.session(id);
    await guard(() =>
      this.redis
        .multi()
        .hset(key, {
          requester: JSON.stringify(init.requester),
          context: JSON.stringify(init.context),
          parameters: JSON.stringify(init.parameters),
          st: sha(st),
          mt: sha(mt),
          stExp: String(sessionExp),
          mtExp: String(masterExp),
        })
        // Relative, so a Redis clock that differs from ours does not end the session early.
        .pexpire(key, Math.max(1, masterExp - now))
        .exec(),
    );
    return this.tokens(id, `ST.${id}.${st}`, `MT.${id}.${mt}`, sessionExp, masterExp);
  }

  /** The session of a session token: 390104 when unknown or closed, 390112 when expired (the driver renews). */
  async authenticate(sessionToken: string | undefined): Promise<WireSession> {
    const parsed = parseToken(sessionToken, 'ST');
    if (!parsed) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    const hash = await guard(() => this.redis.hgetall(this.keys.session(parsed.sessionId)));
    if (!sameHash(hash.st, sha(parsed.secret))) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    if (Number(hash.stExp) <= this.now()) throw SnowflakeWireError.of('SESSION_TOKEN_EXPIRED');
    return this.sessionOf(parsed.sessionId, hash);
  }

  /** The session by id, while its master token lives (chunk downloads carry no session token). */
  async byId(sessionId: string): Promise<WireSession | undefined> {
    if (!/^\d{1,20}$/.test(sessionId)) return undefined;
    const hash = await guard(() => this.redis.hgetall(this.keys.session(sessionId)));
    if (!hash.requester || Number(hash.mtExp) <= this.now()) return undefined;
    return this.sessionOf(sessionId, hash);
  }

  /** A new session token for the master token; the old one stops working. */
  async renew(masterToken: string | undefined, oldSessionToken: string | undefined): Promise<SessionTokens> {
    const parsed = parseToken(masterToken, 'MT');
    if (!parsed) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    const key = this.keys.session(parsed.sessionId);
    const hash = await guard(() => this.redis.hgetall(key));
    if (!sameHash(hash.mt, sha(parsed.secret))) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID');
    const masterExp = Number(hash.mtExp);
    if (masterExp <= this.now()) throw SnowflakeWireError.of('MASTER_TOKEN_EXPIRED');
    const old = parseToken(oldSessionToken, 'ST');
    if (oldSessionToken !== undefined && (!old || old.sessionId !== parsed.sessionId || !sameHash(hash.st, sha(old.secret)))) {
      throw SnowflakeWireError.of('SESSION_TOKEN_INVALID', 'The old session token does not belong to this master token.');
    }
    const st = secret();
    const sessionExp = Math.min(this.now() + this.lifetimes.sessionSeconds * 1000, masterExp);
    const swapped = await guard(() => this.redis.eval(RENEW_LUA, 1, key, hash.st ?? '', sha(st), String(sessionExp)));
    if (swapped !== 1) throw SnowflakeWireError.of('SESSION_TOKEN_INVALID', 'The session token was renewed by another request; log in again.');
    return this.tokens(parsed.sessionId, `ST.${parsed.sessionId}.${st}`, masterToken!, sessionExp, masterExp);
  }

  /** Close a session: its tokens and chunk links stop working at once. */
  async remove(session: WireSession): Promise<void> {
    await guard(() => this.redis.del(this.keys.session(session.id)));
  }

  private tokens(sessionId: string, sessionToken: string, masterToken: string, sessionExp: number, masterExp: number): SessionTokens {
    const now = this.now();
    return {
      sessionId,
      sessionToken,
      masterToken,
      sessionValiditySeconds: Math.max(1, Math.floor((sessionExp - now) / 1000)),
      masterValiditySeconds: Math.max(1, Math.floor((masterExp - now) / 1000)),
    };
  }

  private sessionOf(id: string, hash: Record<string, string>): WireSession {
    return {
      id,
      requester: JSON.parse(hash.requester!) as Requester,
      context: JSON.parse(hash.context ?? '{}') as WireContext,
      parameters: JSON.parse(hash.parameters ?? '{}') as Record<string, ParamValue>,
    };
  }
}

/** Redis errors as `471008` (nothing ran), never a 5xx. */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof SnowflakeWireError || err instanceof AirlockError) throw err;
    throw gatewayError('unavailable', 'STORE_UNAVAILABLE', 'the session store is unavailable, so nothing ran; try again shortly.');
  }
}
