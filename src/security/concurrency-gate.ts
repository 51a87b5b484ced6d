import { UserzError, type UserzErrorCode } from '../errors.js';

/**
 * A counting semaphore with a bounded queue: at most `maxActive` tasks run at once, at most
 * `maxWaiting` wait for a turn, and a caller beyond that is answered at once (503 `busy`,
 * retryable, with Retry-After) instead of queueing without end. Waiters start in order.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly opts: { maxActive: number; maxWaiting: number; busyCode: UserzErrorCode; busyMessage: string }) {
    if (!(opts.maxActive >= 1) || !(opts.maxWaiting >= 0)) throw new RangeError('ConcurrencyGate needs maxActive >= 1 and maxWaiting >= 0');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await task();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.active < this.opts.maxActive) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.opts.maxWaiting) {
      return Promise.reject(new UserzError(this.opts.busyCode, this.opts.busyMessage, { retryable: true, details: { retryAfterSeconds: 1 } }));
    }
    // The slot passes straight from the leaving task to the first waiter (active stays the same).
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
