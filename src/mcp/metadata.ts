/**
 * Airlock's MCP endpoint as an OAuth 2.1 resource server: its RFC 9728
 * protected resource metadata and the `WWW-Authenticate` challenge that points
 * clients at it. Pure: the HTTP mount (`http.ts`) serves them.
 */
import type { AirlockErrorCode } from '../errors.ts';

/** Where RFC 9728 metadata lives; `/mcp` is appended for the path-suffixed form. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** The path of the MCP endpoint on the api role. */
export const MCP_PATH = '/mcp';

/** RFC 9728 §2 metadata, with the fields Airlock fills in. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  scopes_supported: string[];
  resource_name: string;
  resource_documentation?: string;
}

/** The metadata of the MCP endpoint at `base` (the public origin), protected by `issuer`. */
export function protectedResourceMetadata(base: string, issuer: string | undefined, scopes: readonly string[]): ProtectedResourceMetadata {
  return {
    resource: `${base}${MCP_PATH}`,
    // No issuer configured: no token can be verified, and the metadata says there is nobody to ask.
    authorization_servers: issuer ? [issuer] : [],
    bearer_methods_supported: ['header'],
    scopes_supported: [...scopes],
    resource_name: 'Airlock: approved, masked Snowflake queries for agents',
  };
}

/** The metadata document's URL for the MCP endpoint at `base` (the path-suffixed form of RFC 9728 §3.1). */
export function metadataUrl(base: string): string {
  return `${base}${PROTECTED_RESOURCE_PATH}${MCP_PATH}`;
}

/** Quote a value for an auth-param (RFC 9110 §11.2): backslash-escape `"` and `\`. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The challenge of a 401 on /mcp (RFC 6750 §3, RFC 9728 §5.1). A request that
 * carried no token gets no error code; one whose token was refused gets
 * `error="invalid_token"` and a description.
 */
export function bearerChallenge(base: string, refusal?: { code: AirlockErrorCode; message: string }): string {
  const params = [`resource_metadata=${quoted(metadataUrl(base))}`];
  if (refusal && refusal.code !== 'AUTH_MISSING') {
    params.push('error="invalid_token"', `error_description=${quoted(refusal.message.replace(/[^\x20-\x7e]/g, ' '))}`);
  }
  return `Bearer ${params.join(', ')}`;
}
