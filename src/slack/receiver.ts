/**
 * Bolt's HTTP transport, mounted into Airlock's fastify server at
 * `POST /slack/events` (one endpoint for interactivity, slash commands and
 * events). It verifies signatures itself (both clock directions), hands the
 * parsed body to `App.processEvent`, and answers as soon as the listener acks —
 * or after 2.5 s with an empty 200, so Slack's 3 s limit is never missed.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AirlockError, httpStatusFor, isAirlockError, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';
import { verifySlackRequest } from './verify.ts';

export interface ReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Clock, for tests. */
  now?: () => number;
  /** Longest wait for a listener's ack before answering 200 anyway (ms). */
  ackTimeoutMs?: number;
}

/** A Bolt `Receiver` whose HTTP side is a fastify route. */
export class FastifySlackReceiver implements Receiver {
  private app: App | undefined;

  constructor(private readonly options: ReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** The fastify server owns the socket; nothing to start or stop here. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Mount `POST /slack/events` in its own encapsulated context (it needs the raw body). */
  register(server: FastifyInstance): void {
    void server.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
      scope.post('/slack/events', async (request, reply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const header = (name: string) => {
          const v = request.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        try {
          verifySlackRequest({
            secret: this.options.signingSecret,
            timestamp: header('x-slack-request-timestamp'),
            signature: header('x-slack-signature'),
            rawBody: raw,
            nowMs: (this.options.now ?? Date.now)(),
          });
        } catch (err) {
          const e = isAirlockError(err) ? err : new AirlockError('AUTH_INVALID', 'The Slack signature could not be checked.');
          this.options.logger.warn({ component: 'slack', code: e.code }, 'slack request refused');
          return reply.status(httpStatusFor(e.code)).send(toErrorBody(e));
        }
        let body: Record<string, unknown>;
        try {
          body = parseBody(raw, header('content-type') ?? '');
        } catch {
          return reply.status(400).send(toErrorBody(new AirlockError('VALIDATION_FAILED', 'The Slack request body could not be read.')));
        }
        if (body.type === 'url_verification' && typeof body.challenge === 'string') {
          return reply.send({ challenge: body.challenge });
        }
        if (header('x-slack-retry-num') !== undefined && body.type === 'event_callback') {
          // Events are not used for state changes; a retried event is acknowledged and dropped.
          return reply.status(200).send('');
        }
        return this.dispatch(body, reply, header('x-slack-retry-num'));
      });
    });
  }

  private async dispatch(body: Record<string, unknown>, reply: FastifyReply, retryNum: string | undefined): Promise<FastifyReply> {
    const app = this.app;
    if (!app) return reply.status(503).send(toErrorBody(new AirlockError('SLACK_UNAVAILABLE', 'The Slack app is not ready.')));
    let answered = false;
    let resolveAnswer: (payload: unknown) => void = () => undefined;
    const answer = new Promise<unknown>((resolve) => (resolveAnswer = resolve));
    const ack = async (response?: unknown) => {
      if (answered) return;
      answered = true;
      resolveAnswer(response);
    };
    const event: ReceiverEvent = { body, ack, ...(retryNum !== undefined ? { retryNum: Number(retryNum) } : {}) };
    const processing = app.processEvent(event).catch((err: unknown) => {
      this.options.logger.error({ component: 'slack', err: err instanceof Error ? err.message : String(err) }, 'slack listener failed');
    });
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.options.ackTimeoutMs ?? 2500).unref());
    const first = await Promise.race([answer.then((r) => ({ r })), processing.then(() => 'done' as const), timeout]);
    if (first === 'done' && !answered) {
      // The listener finished without acking (no listener matched): Slack wants a 200 anyway.
      return reply.status(200).send('');
    }
    if (first === 'timeout') return reply.status(200).send('');
    const payload = typeof first === 'object' ? first.r : undefined;
    if (payload === undefined || payload === '') return reply.status(200).send('');
    return reply.status(200).send(payload);
  }
}

/** Interactivity: form with `payload=<json>`; slash commands: form fields; events: JSON. */
function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    return payload === null ? Object.fromEntries(form.entries()) : jsonObject(payload);
  }
  return jsonObject(raw);
}

/** A JSON object, or a throw: `payload=null`, a number or an array is no Slack request. */
function jsonObject(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  return parsed as Record<string, unknown>;
}
