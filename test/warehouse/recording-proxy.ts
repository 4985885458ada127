/**
 * A pass-through HTTP proxy between the driver and the emulator that reads
 * the emulator's answers: the effective QUERY_TAG the emulator reports in each
 * result's `parameters`, by query id. Nothing is changed on the way.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  url: string;
  /** QUERY_TAG the emulator applied to the statement, as it reported it. */
  queryTagOf(queryId: string): string | undefined;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const tags = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          if (String(up.headers['content-type'] ?? '').includes('application/json')) record(body);
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(body);
        });
      },
    );
    out.on('error', () => {
      res.destroy();
    });
    req.pipe(out);
  });

  function record(body: Buffer): void {
    try {
      const json = JSON.parse(body.toString('utf8')) as { data?: { queryId?: unknown; parameters?: { name: string; value: unknown }[] } };
      const id = json.data?.queryId;
      const tag = json.data?.parameters?.find((p) => p.name === 'QUERY_TAG');
      if (typeof id === 'string' && tag) tags.set(id, String(tag.value));
    } catch {
      // Not a JSON envelope: nothing to record.
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queryTagOf: (id) => tags.get(id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
