/**
 * The page's live feed: server-sent events on `GET /sandbox/events`. Each
 * change of the workspace bumps a version and tells every open page
 * `event: change`; the page then reads what its user sees. A comment every
 * 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError, toErrorBody } from '../errors.ts';

export class LiveFeed {
  private readonly open = new Set<FastifyReply>();
  private closed = false;
  /** Bumped on every change; the page shows it as `data-version`. */
  version = 0;

  /** Tell every open page that something changed. */
  changed(): void {
    this.version += 1;
    for (const reply of this.open) reply.raw.write(`event: change\ndata: ${this.version}\n\n`);
  }

  /** Serve one page's stream until it disconnects. */
  serve(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    // After close a reconnecting page gets no new stream, or the server would wait for it forever.
    if (this.closed) return reply.status(503).send(toErrorBody(new AirlockError('SLACK_UNAVAILABLE', 'The sandbox is shutting down.')));
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    reply.raw.write(`retry: 1000\nevent: change\ndata: ${this.version}\n\n`);
    this.open.add(reply);
    const beat = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(beat);
      this.open.delete(reply);
    });
    return undefined;
  }

  /** End every stream and refuse new ones (so the HTTP server can close). */
  close(): void {
    this.closed = true;
    for (const reply of this.open) reply.raw.end();
    this.open.clear();
  }
}
