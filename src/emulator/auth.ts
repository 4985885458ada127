/**
 * Login checks for the emulator's single configured user: password, and
 * Snowflake key-pair auth (an RS256 JWT signed by the user's private key).
 *
 * The JWT is verified the way Snowflake does: `iss = ACCOUNT.USER.SHA256:<fingerprint>`
 * names one of the user's two key slots (`RSA_PUBLIC_KEY`, `RSA_PUBLIC_KEY_2`,
 * so a key can be rotated with no gap), the signature must verify with that
 * slot's key, `sub = ACCOUNT.USER`, and expiry. snowflake-sdk puts milliseconds in `iat`/`exp`, so both seconds
 * and milliseconds are accepted.
 */
import { createHash, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** Who may log in. */
export interface UserCredentials {
  account: string;
  user: string;
  password?: string;
  /** RSA public key, PEM (SPKI or PKCS#1): the `RSA_PUBLIC_KEY` slot. */
  publicKeyPem?: string;
  /** The second slot, `RSA_PUBLIC_KEY_2`. */
  publicKeyPem2?: string;
}

/** Snowflake's two key slots of a user. */
export type KeySlot = 1 | 2;

interface SlotKey {
  key: KeyObject;
  fingerprint: string;
}

/** The login request fields that matter for authentication. */
export interface LoginAttempt {
  accountName: string;
  loginName: string;
  authenticator: string;
  password?: string;
  token?: string;
}

/** Allowed clock skew for `iat`, and maximum JWT lifetime Snowflake accepts (1 hour). */
const SKEW_MS = 60_000;
const MAX_LIFETIME_MS = 3_600_000;

/** `SHA256:<base64 sha256 of the SPKI DER>`: the fingerprint Snowflake stores for a user key. */
export function publicKeyFingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

/** Verifies login attempts against one configured user. */
export class Authenticator {
  private readonly slots = new Map<KeySlot, SlotKey>();
  private readonly keyLogins = new Map<string, number>();

  constructor(
    private readonly creds: UserCredentials,
    private readonly now: () => number = Date.now,
  ) {
    this.setPublicKey(1, creds.publicKeyPem);
    this.setPublicKey(2, creds.publicKeyPem2);
  }

  /** `ALTER USER … SET RSA_PUBLIC_KEY[_2] = '…'` (a PEM) or `UNSET` (undefined): later logins see the change. */
  setPublicKey(slot: KeySlot, pem: string | undefined): void {
    if (!pem) {
      this.slots.delete(slot);
      return;
    }
    const key = createPublicKey(pem);
    this.slots.set(slot, { key, fingerprint: publicKeyFingerprint(key) });
  }

  /** How many key-pair logins succeeded with the key of this fingerprint (`SHA256:…`), so tests can see which key a client used. */
  loginsWith(fingerprint: string): number {
    return this.keyLogins.get(fingerprint) ?? 0;
  }

  /** Throws a {@link SnowflakeWireError} (390100 / 390144) unless the attempt is valid. */
  check(attempt: LoginAttempt): void {
    const authenticator = attempt.authenticator.toUpperCase();
    if (authenticator === 'SNOWFLAKE_JWT') {
      this.checkJwt(attempt);
      return;
    }
    if (authenticator !== 'SNOWFLAKE' && authenticator !== '') {
      throw SnowflakeWireError.of('INCORRECT_USERNAME_PASSWORD', `Authenticator ${attempt.authenticator} is not supported by the emulator.`);
    }
    const expected = this.creds.password;
    if (
      !this.sameAccount(attempt.accountName) ||
      !this.sameUser(attempt.loginName) ||
      expected === undefined ||
      attempt.password === undefined ||
      !safeEqual(attempt.password, expected)
    ) {
      throw SnowflakeWireError.of('INCORRECT_USERNAME_PASSWORD');
    }
  }

  private checkJwt(attempt: LoginAttempt): void {
    const invalid = (why: string): SnowflakeWireError => SnowflakeWireError.of('JWT_TOKEN_INVALID', `JWT token is invalid. [${why}]`);
    if (this.slots.size === 0) throw invalid('no public key is registered for the user');
    if (!this.sameAccount(attempt.accountName) || !this.sameUser(attempt.loginName)) throw invalid('unknown user');
    const parts = (attempt.token ?? '').split('.');
    if (parts.length !== 3) throw invalid('malformed token');
    const [h, p, s] = parts as [string, string, string];
    let header: { alg?: unknown };
    let payload: { iss?: unknown; sub?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      throw invalid('malformed token');
    }
    if (header.alg !== 'RS256') throw invalid('algorithm must be RS256');
    const subject = `${this.creds.account}.${this.creds.user}`.toUpperCase();
    if (typeof payload.sub !== 'string' || payload.sub.toUpperCase() !== subject) throw invalid('subject mismatch');
    const iss = typeof payload.iss === 'string' ? payload.iss.toUpperCase() : '';
    const slot = [...this.slots.values()].find((k) => iss === `${subject}.${k.fingerprint.toUpperCase()}`);
    if (!slot) throw invalid('issuer does not name a registered public key fingerprint');
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), slot.key, Buffer.from(s, 'base64url'))) {
      throw invalid('signature does not match the registered public key');
    }
    const now = this.now();
    const exp = toMillis(payload.exp);
    const iat = toMillis(payload.iat);
    if (exp === undefined || exp <= now) throw invalid('token expired');
    if (iat !== undefined && (iat > now + SKEW_MS || exp - iat > MAX_LIFETIME_MS)) throw invalid('issue time out of range');
    this.keyLogins.set(slot.fingerprint, this.loginsWith(slot.fingerprint) + 1);
  }

  private sameAccount(name: string): boolean {
    return name.toUpperCase() === this.creds.account.toUpperCase();
  }

  private sameUser(name: string): boolean {
    return name.toUpperCase() === this.creds.user.toUpperCase();
  }
}

/** NumericDate in seconds (RFC 7519) or milliseconds (snowflake-sdk) → milliseconds. */
function toMillis(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return value > 1e11 ? value : value * 1000;
}

function safeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
