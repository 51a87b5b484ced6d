/**
 * Slack and Discord drop (or show as failed) any answer that arrives after 3 s. Under
 * load the store can take longer than that, so the request path races its work against
 * a deadline kept well inside the 3 s: what finishes first is answered; work that is
 * late is answered with a "received, confirmation follows" message and its real outcome
 * goes out as a follow-up. The work itself is never abandoned, so a report that ends up
 * stored is never answered 404 or "failed".
 */

/** Default time from the start of our handler to the answer; leaves room for queueing before it. */
export const DEFAULT_CHAT_ACK_MS = 2_000;

export type Raced<T> = { done: true; value: T } | { done: false };

/** Waits for `work` at most `ms`; `{ done: false }` when the deadline came first (work keeps going). */
export async function raceDeadline<T>(work: Promise<T>, ms: number): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Background follow-ups still being sent; `idle()` waits for them (tests, shutdown). */
export class FollowUps {
  private readonly pending = new Set<Promise<void>>();

  track(work: Promise<void>): void {
    const p = work.finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
