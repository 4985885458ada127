/**
 * Logins at the gateway: OAuth only, with the agent's OIDC access token,
 * verified by the same authenticator as the REST API's bearer tokens (issuer,
 * audience, owner, groups). Password and key-pair logins are refused with the
 * codes Snowflake uses for them, so the driver raises its usual auth error.
 */
import { decodeJwt } from 'jose';
import type { Authenticator } from '../../api/server.ts';
import { AirlockError } from '../../errors.ts';
import type { Requester } from '../../queries/types.ts';
import { SnowflakeWireError } from '../errors.ts';
import type { LoginRequest } from '../port.ts';
import { gatewayError } from './codes.ts';

const OAUTH_ONLY = 'Airlock accepts only OAuth logins: authenticator OAUTH with the agent\u2019s OIDC access token as token.';

/** The verified agent of a login and when its token expires (ms); a wire error otherwise. */
export async function verifyLogin(authenticator: Authenticator, request: LoginRequest): Promise<{ requester: Requester; notAfterMs: number }> {
  if (request.authenticator === 'SNOWFLAKE_JWT') throw SnowflakeWireError.of('JWT_TOKEN_INVALID', `JWT token is invalid. ${OAUTH_ONLY}`);
  if (request.authenticator !== 'OAUTH') throw SnowflakeWireError.of('INCORRECT_USERNAME_PASSWORD', `Incorrect username or password was specified. ${OAUTH_ONLY}`);
  const token = request.token ?? '';
  if (token === '') throw SnowflakeWireError.of('OAUTH_TOKEN_INVALID', `Invalid OAuth access token. ${OAUTH_ONLY}`);
  let requester: Requester;
  try {
    requester = await authenticator.verify(`Bearer ${token}`);
  } catch (err) {
    throw loginRefusal(err);
  }
  const login = request.loginName.trim();
  if (login !== '' && login.toUpperCase() !== requester.id.toUpperCase() && login.toUpperCase() !== requester.name.toUpperCase()) {
    throw SnowflakeWireError.of('OAUTH_TOKEN_INVALID', `Invalid OAuth access token. The user name ${login} is not the token's agent; leave it empty or give the agent's id.`);
  }
  // Verified above, so its expiry is the issuer's word; a session never outlives it.
  const exp = decodeJwt(token).exp;
  return { requester, notAfterMs: typeof exp === 'number' ? exp * 1000 : 0 };
}

/** A refused token as Snowflake says it: expired (390318), unverifiable (471008), or invalid (390303), with Airlock's code. */
function loginRefusal(err: unknown): SnowflakeWireError {
  if (!(err instanceof AirlockError)) return SnowflakeWireError.of('OAUTH_TOKEN_INVALID');
  if (err.code === 'AUTH_EXPIRED') return SnowflakeWireError.of('OAUTH_TOKEN_EXPIRED', `OAuth access token expired. Airlock ${err.code}: ${err.message}`);
  if (err.code === 'AUTH_ISSUER_UNAVAILABLE' || err.code === 'STORE_UNAVAILABLE') return gatewayError('unavailable', err.code, err.message);
  return SnowflakeWireError.of('OAUTH_TOKEN_INVALID', `Invalid OAuth access token. Airlock ${err.code}: ${err.message}`);
}
