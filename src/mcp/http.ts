/**
 * The streamable HTTP transport at /mcp on the api role, and the protected
 * resource metadata that tells MCP clients where its tokens come from.
 *
 * The bearer token is the agent's OIDC token, checked by the same
 * authenticator as /v1; the tools then act as that agent on the services in
 * process. The SDK's handler serves 2026-07-28 clients and, through its
 * stateless legacy fallback, 2025-era clients (initialize per request, no
 * sessions), so any replica can answer any request.
 */
import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/fastify';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Authenticator } from '../api/server.ts';
import { AirlockError, asAirlockError, httpStatusFor, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ClientInfo } from '../queries/service.ts';
import type { Requester } from '../queries/types.ts';
import { bearerChallenge, MCP_PATH, PROTECTED_RESOURCE_PATH, protectedResourceMetadata } from './metadata.ts';
import { buildMcpServer } from './server.ts';
import { servicesPort, type McpServices } from './services-port.ts';

/** Options of {@link mcpMount}. */
export interface McpHttpOptions {
  services: McpServices;
  logger: Logger;
  /** OIDC_ISSUER: the authorization server the metadata names. */
  issuer?: string;
  /** AIRLOCK_PUBLIC_URL: the origin clients reach (else the request's own origin). */
  publicUrl?: string;
  /** Scopes the metadata lists. */
  scopes?: readonly string[];
  /** AIRLOCK_HOST: bound to loopback, /mcp answers only loopback Host names (DNS rebinding). */
  bindHost?: string;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * DNS rebinding protection (the MCP transport spec: validate Origin, 403 when
 * it is not allowed). With AIRLOCK_PUBLIC_URL, Host and Origin must name it
 * (or loopback); bound to loopback, they must be loopback; otherwise an
 * Origin, when a browser sends one, must name the Host the request came to
 * (or loopback). Clients that are not browsers send no Origin. A bearer token
 * is required anyway, which a rebinding page does not have.
 */
function rebindingGuards(options: McpHttpOptions): onRequestHookHandler[] {
  const publicHost = options.publicUrl ? URL.parse(options.publicUrl)?.host : undefined;
  const publicName = publicHost ? (URL.parse(`http://${publicHost}`)?.hostname ?? publicHost) : undefined;
  const fixed = publicName ? [publicName, ...LOOPBACK_HOSTS] : LOOPBACK_HOSTS.includes(options.bindHost ?? '') || options.bindHost === '::1' ? LOOPBACK_HOSTS : undefined;
  if (fixed) return [hostHeaderValidation(fixed), originValidation(fixed)];
  return [(request, reply) => originValidation([request.hostname, ...LOOPBACK_HOSTS])(request, reply)];
}

/** Who the tools act for, carried from the token check to the server factory. */
interface Caller {
  requester: Requester;
  client: ClientInfo;
}

/** Request headers that describe the original connection or body, not the MCP request. */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** The fastify request as the web-standard Request the SDK's handler takes (its body already parsed by Airlock). */
function webRequest(request: FastifyRequest, base: string, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = request.method === 'POST' && request.body !== undefined;
  return new Request(new URL(request.url, base), { method: request.method, headers, signal, ...(hasBody ? { body: JSON.stringify(request.body) } : {}) });
}

/** The web Response as fastify's reply (an SSE body streams through). */
async function sendResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  void reply.status(response.status);
  response.headers.forEach((value, name) => void reply.header(name, value));
  return reply.send(response.body ?? '');
}

/**
 * The door to register on the api role's server: /mcp and the RFC 9728
 * metadata (at the root and path-suffixed form). `authenticator` is the API's
 * own (requireOwnerWhenAsked over the OIDC verifier).
 */
export function mcpMount(options: McpHttpOptions): (server: FastifyInstance, door: { authenticator: Authenticator }) => void {
  const { logger } = options;
  const scopes = options.scopes ?? ['airlock:query'];
  // The origin clients reach: configured, else the request's own (a Host that is no URL host falls back to loopback).
  const baseOf = (request: FastifyRequest) =>
    options.publicUrl?.replace(/\/+$/, '') ?? URL.parse(`${request.protocol}://${request.host}`)?.origin ?? 'http://localhost';
  const handler: McpHttpHandler = createMcpHandler(
    (ctx) => {
      const caller = ctx.authInfo?.extra?.caller as Caller | undefined;
      // The route below always passes the caller; a server without one would act for nobody.
      if (!caller) throw new AirlockError('AUTH_MISSING', 'Send a bearer token.');
      return buildMcpServer(servicesPort(options.services, caller.requester, caller.client), logger);
    },
    { onerror: (err) => logger.debug({ err }, 'MCP request refused') },
  );

  return (server, door) => {
    const metadata = async (request: FastifyRequest) => protectedResourceMetadata(baseOf(request), options.issuer, scopes);
    server.get(PROTECTED_RESOURCE_PATH, metadata);
    server.get(`${PROTECTED_RESOURCE_PATH}${MCP_PATH}`, metadata);
    server.route({
      method: ['GET', 'POST', 'DELETE'],
      url: MCP_PATH,
      onRequest: rebindingGuards(options),
      handler: async (request, reply) => {
        const base = baseOf(request);
        let requester: Requester;
        try {
          requester = await door.authenticator.verify(request.headers.authorization);
        } catch (err) {
          const e = asAirlockError(err);
          const status = httpStatusFor(e.code);
          if (status === 401) void reply.header('WWW-Authenticate', bearerChallenge(base, e));
          return reply.status(status).send(toErrorBody(e));
        }
        const client: ClientInfo = {
          address: request.ip,
          ...(typeof request.headers['user-agent'] === 'string' ? { userAgent: request.headers['user-agent'] } : {}),
        };
        // The client hanging up cancels the tool call (and any wait inside it).
        const aborted = new AbortController();
        reply.raw.once('close', () => aborted.abort());
        const token = (request.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        const caller: Caller = { requester, client };
        const response = await handler.fetch(webRequest(request, base, aborted.signal), {
          parsedBody: request.body,
          authInfo: { token, clientId: requester.id, scopes: requester.scopes ?? [], extra: { caller } },
        });
        return sendResponse(reply, response);
      },
    });
    server.addHook('onClose', async () => handler.close());
  };
}
