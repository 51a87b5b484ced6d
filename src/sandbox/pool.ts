/**
 * Warm pool: pristine, started, never-used sandboxes. Each is handed out once and then
 * destroyed by its run; the pool refills in the background. Empty pool: a taker waits for a
 * member already being made, when there is one nobody else waits for (it started before a
 * cold start could, so it is never later than one); otherwise the caller cold-starts.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';

export interface PoolMember {
  isAlive(): Promise<boolean>;
  destroy(): Promise<void>;
}

export class WarmPool<T extends PoolMember> {
  private readonly ready: T[] = [];
  /** Takers waiting for the member being made; at most one per member still to make. */
  private readonly waiters: Array<(member: T | undefined) => void> = [];
  private filling?: Promise<void>;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly create: () => Promise<T>,
    private readonly log: Logger,
  ) {}

  get readyCount(): number {
    return this.ready.length;
  }

  /** Starts refilling in the background, unless it already is. */
  fill(): Promise<void> {
    if (this.closed || this.size === 0) return Promise.resolve();
    this.filling ??= this.fillUp().finally(() => {
      this.filling = undefined;
    });
    return this.filling;
  }

  private async fillUp(): Promise<void> {
    try {
      while (!this.closed && this.ready.length < this.size) {
        let member: T;
        try {
          member = await this.create();
        } catch (e) {
          // Retried on the next acquire or reaper tick rather than in a hot loop.
          this.log.warn({ err: errorMessage(e) }, 'Warm pool could not create a sandbox');
          return;
        }
        if (this.closed) {
          await member.destroy();
          return;
        }
        const waiter = this.waiters.shift();
        if (waiter) waiter(member);
        else this.ready.push(member);
      }
    } finally {
      // Nothing more is being made for them: they cold-start.
      for (const waiter of this.waiters.splice(0)) waiter(undefined);
    }
  }

  /** A live pristine member, or undefined. Dead members found on the way are destroyed. */
  async take(): Promise<T | undefined> {
    for (let member = this.ready.shift(); member; member = this.ready.shift()) {
      if (await member.isAlive()) return member;
      await member.destroy();
    }
    if (this.closed || !this.filling || this.waiters.length >= this.size) return undefined;
    const member = await new Promise<T | undefined>((resolve) => this.waiters.push(resolve));
    if (!member) return undefined;
    if (await member.isAlive()) return member;
    await member.destroy();
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    await Promise.all(this.ready.splice(0).map((m) => m.destroy()));
  }
}
