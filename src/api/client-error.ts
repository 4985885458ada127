/**
 * Requests Node's HTTP parser refuses before fastify sees them (a malformed
 * request line or header, headers over the size limit, a request that never
 * finishes): answered in Airlock's error shape with a documented code, where
 * fastify's default writes its own `{error, message, statusCode}` body.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AirlockError, httpStatusFor, toErrorBody } from '../errors.ts';

/** The error for a parser refusal: the header block too large, a timeout, or anything else unreadable. */
function clientErrorOf(err: { code?: string }): AirlockError {
  if (err.code === 'HPE_HEADER_OVERFLOW') return new AirlockError('HEADERS_TOO_LARGE', 'The request headers are too large.');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new AirlockError('REQUEST_TIMEOUT', 'The request was not received in time.');
  return new AirlockError('BAD_REQUEST', 'The HTTP request could not be read.');
}

/**
 * fastify's `clientErrorHandler`: write the refusal on the raw socket (there
 * is no request object yet) and close it, as Node's own handler does.
 */
export function writeClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const mapped = clientErrorOf(err);
    const status = httpStatusFor(mapped.code);
    const body = JSON.stringify(toErrorBody(mapped));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
