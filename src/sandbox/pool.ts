/**
 * Warm pool: pristine, started, never-used sandboxes. Each is handed out once and then
 * destroyed by its run; the pool refills in the background. Empty pool: the caller cold-starts.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';

export interface PoolMember {
  isAlive(): Promise<boolean>;
  destroy(): Promise<void>;
}

export class WarmPool<T extends PoolMember> {
  private readonly ready: T[] = [];
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
      this.ready.push(member);
    }
  }

  /** A live pristine member, or undefined. Dead members found on the way are destroyed. */
  async take(): Promise<T | undefined> {
    for (let member = this.ready.shift(); member; member = this.ready.shift()) {
      if (await member.isAlive()) return member;
      await member.destroy();
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    await Promise.all(this.ready.splice(0).map((m) => m.destroy()));
  }
}
