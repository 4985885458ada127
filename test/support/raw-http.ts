/**
 * HTTP/1.1 over a bare TCP socket, for hostile-input tests: the request line,
 * headers and body go out byte for byte as the test wrote them (fetch and
 * node:http refuse or normalise bad paths, methods and header values), and the
 * answer comes back as status, headers and body. Loopback only.
 */
import { connect } from 'node:net';

/** One request exactly as sent; `Host`, `Content-Length` and `Connection: close` are added unless given. */
export interface RawRequest {
  method: string;
  /** The request target, sent unencoded (`/v1/queries/%zz?x=1`). */
  path: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
}

/** What came back. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send `request` to `host:port` and read the whole answer; rejects after `timeoutMs` without one. */
export function rawRequest(port: number, request: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method} ${request.path.slice(0, 200)}`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined); // the server may close early (a refused request); what was read still counts
    socket.on('close', () => {
      clearTimeout(timer);
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed) resolve(parsed);
      else reject(new Error(`no HTTP answer to ${request.method} ${request.path.slice(0, 200)}`));
    });
    // Not end(): a half-closed socket may be dropped before the answer; `Connection: close` ends it from the server's side.
    socket.on('connect', () => socket.write(serialize(request)));
  });
}

function serialize(request: RawRequest): Buffer {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([h]) => h.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', '127.0.0.1']);
  if (!has('content-length') && !has('transfer-encoding') && (request.body !== undefined || request.method !== 'GET')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  if (!has('connection')) headers.push(['Connection', 'close']);
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${headers.map(([h, v]) => `${h}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Status line, headers, and the body (de-chunked when sent chunked). */
function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
