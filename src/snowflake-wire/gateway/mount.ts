/**
 * The Snowflake-wire door on the API's HTTP server: the driver's endpoints
 * (none under /v1) answered by the gateway back end, each with its raw body
 * (the driver gzips bodies, with or without Content-Encoding) and every
 * refusal, even a body fastify cannot read, as Snowflake's HTTP 200 envelope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../api/server.ts';
import type { Logger } from '../../log.ts';
import { SnowflakeWireError } from '../errors.ts';
import { failure, serialise, type Reply } from '../envelope.ts';
import type { WireBackend } from '../port.ts';
import { answerWire, WIRE_ROUTES } from '../router.ts';
import { gatewayBackend, type GatewayDeps } from './backend.ts';

/**
 * The door as a mount for `HttpParts.mounts`: the gateway back end on the
 * server's own authenticator (the REST API's, owner check included).
 */
export function snowflakeWireDoor(deps: Omit<GatewayDeps, 'authenticator'>): (server: FastifyInstance, door: { authenticator: Authenticator }) => void {
  return (server, door) => mountWire(server, gatewayBackend({ ...deps, authenticator: door.authenticator }), deps.logger);
}

/** Answer the driver's endpoints on `server` with `backend`. */
function mountWire(server: FastifyInstance, backend: WireBackend, logger: Logger): void {
  const log = logger.child({ component: 'snowflake-wire' });
  const write = (reply: FastifyReply, answer: Reply) => {
    const { status, headers, payload } = serialise(answer);
    return reply.status(status).headers(headers).send(payload);
  };
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const userAgent = request.headers['user-agent'];
    const answer = await answerWire(
      backend,
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        baseUrl: `${request.protocol}://${request.host}`,
        client: { address: request.ip, ...(userAgent ? { userAgent } : {}) },
      },
      log,
    );
    return write(reply, answer);
  };
  void server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    // Too large, a broken Content-Length: still the driver's envelope, never a 4xx/5xx it retries.
    scope.setErrorHandler((err, _request, reply) => {
      log.info({ code: (err as { code?: string }).code }, 'snowflake wire request unreadable');
      return write(reply, failure(SnowflakeWireError.of('BAD_REQUEST', 'The request could not be read (too large or malformed).')));
    });
    for (const path of WIRE_ROUTES.post) scope.post(path, handle);
    for (const path of WIRE_ROUTES.get) scope.get(path, handle);
    scope.get(`${backend.chunkPrefix}/*`, handle);
  });
}
