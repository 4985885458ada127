/**
 * Login checks for the emulator's single configured user: password, and
 * Snowflake key-pair auth (an RS256 JWT signed by the user's private key).
 *
 * The JWT is verified the way Snowflake does: signature with the configured
 * public key, `iss = ACCOUNT.USER.SHA256:<fingerprint>`, `sub = ACCOUNT.USER`,
 * and expiry. snowflake-sdk puts milliseconds in `iat`/`exp`, so both seconds
 * and milliseconds are accepted.
 */
import { createHash, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** Who may log in. */
export interface UserCredentials {
  account: string;
  user: string;
  password?: string;
  /** RSA public key, PEM (SPKI or PKCS#1). */
  publicKeyPem?: string;
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
  private readonly publicKey: KeyObject | undefined;
  private readonly fingerprint: string | undefined;

  constructor(
    private readonly creds: UserCredentials,
    private readonly now: () => number = Date.now,
  ) {
    if (creds.publicKeyPem) {
      this.publicKey = createPublicKey(creds.publicKeyPem);
      this.fingerprint = publicKeyFingerprint(this.publicKey);
    }
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
    if (!this.publicKey || !this.fingerprint) throw invalid('no public key is registered for the user');
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
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'))) {
      throw invalid('signature does not match the registered public key');
    }
    const subject = `${this.creds.account}.${this.creds.user}`.toUpperCase();
    if (typeof payload.sub !== 'string' || payload.sub.toUpperCase() !== subject) throw invalid('subject mismatch');
    if (typeof payload.iss !== 'string' || payload.iss.toUpperCase() !== `${subject}.${this.fingerprint.toUpperCase()}`) {
      throw invalid('issuer does not name the registered public key fingerprint');
    }
    const now = this.now();
    const exp = toMillis(payload.exp);
    const iat = toMillis(payload.iat);
    if (exp === undefined || exp <= now) throw invalid('token expired');
    if (iat !== undefined && (iat > now + SKEW_MS || exp - iat > MAX_LIFETIME_MS)) throw invalid('issue time out of range');
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
