/**
 * The protocol on a plain `node:http` server (the emulator's): read the body,
 * answer through the router, write the reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { MAX_BODY_BYTES } from './body.ts';
import { SnowflakeWireError } from './errors.ts';
import { failure, serialise, type Reply } from './envelope.ts';
import type { WireBackend } from './port.ts';
import { answerWire } from './router.ts';

/** A request listener for `createServer`; `fallbackHost` builds chunk URLs when a request has no Host header. */
export function wireRequestListener(backend: WireBackend, fallbackHost: () => string, log?: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    readRaw(req)
      .then((body) =>
        answerWire(
          backend,
          {
            method: req.method ?? 'GET',
            url: req.url ?? '/',
            headers: req.headers,
            body,
            baseUrl: `http://${req.headers.host ?? fallbackHost()}`,
            client: { ...(req.socket.remoteAddress ? { address: req.socket.remoteAddress } : {}), ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}) },
          },
          log,
        ),
      )
      .catch((err: unknown) => failure(err instanceof SnowflakeWireError ? err : SnowflakeWireError.of('BAD_REQUEST')))
      .then((reply: Reply) => {
        if (res.headersSent) return;
        const { status, headers, payload } = serialise(reply);
        res.writeHead(status, headers);
        res.end(payload);
      });
  };
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > MAX_BODY_BYTES) throw SnowflakeWireError.of('BAD_REQUEST', 'Request body too large.');
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}
