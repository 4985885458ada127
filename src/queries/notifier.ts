/**
 * Cross-replica signals over Redis pub/sub: "query X finished" (wakes API
 * requests long-polling on X) and "cancel query X" (reaches whichever worker
 * runs X). One subscriber connection per process serves every waiter.
 */
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import { queryKeys } from './keys.ts';

type Listener = (id: string) => void;

export class Notifier {
  private readonly listeners = new Map<string, Map<string, Set<Listener>>>();
  private started?: Promise<void>;
  private handlerAttached = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly publisher: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Channel names. `finished` is published by QueryStore's compare-and-set when
   * a query reaches a terminal status: long-polls wait for nothing else, so
   * this process does not subscribe to every change (`events`).
   */
  get channels() {
    const keys = queryKeys(this.prefix);
    return { finished: keys.finished, cancel: keys.cancel };
  }

  /**
   * Subscribe once; safe to call repeatedly. A failed subscribe is not
   * remembered (the next call tries again) and surfaces as STORE_UNAVAILABLE.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      if (!this.handlerAttached) {
        this.handlerAttached = true;
        this.subscriber.on('message', (channel: string, id: string) => {
          const byId = this.listeners.get(channel)?.get(id);
          if (byId) for (const l of [...byId]) l(id);
        });
      }
      await this.subscriber.subscribe(this.channels.finished, this.channels.cancel);
    })().catch((err: unknown) => {
      this.started = undefined;
      throw new AirlockError('STORE_UNAVAILABLE', 'Redis pub/sub is unavailable; try again shortly.', { cause: err });
    });
    return this.started;
  }

  /** Listen for one query id on a channel; returns the unsubscribe function. */
  on(channel: string, id: string, listener: Listener): () => void {
    let byId = this.listeners.get(channel);
    if (!byId) this.listeners.set(channel, (byId = new Map()));
    let set = byId.get(id);
    if (!set) byId.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) byId.delete(id);
    };
  }

  async publishCancel(id: string): Promise<void> {
    await this.publisher.publish(this.channels.cancel, id);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.started) await this.subscriber.unsubscribe().catch(() => undefined);
  }
}
