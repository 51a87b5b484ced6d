/**
 * A Map whose entries expire by time. Expired entries are invisible at once and are
 * removed by a sweep that runs on writes at most every `sweepEveryMs` of clock time, so
 * memory follows the live entries (what arrived within the TTL) rather than everything
 * ever written. Also the store behind the memory cache's keyv: keyv calls
 * `set(key, value, ttlMs)`, `get`, `delete` and `clear` on it.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private lastSweep: number;

  constructor(private readonly opts: { now?: () => number; sweepEveryMs?: number } = {}) {
    this.lastSweep = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Without a TTL the entry lives until deleted (keyv passes none for permanent values). */
  set(key: string, value: V, ttlMs?: number): this {
    const now = this.now();
    this.entries.set(key, { value, expires: ttlMs === undefined || !(ttlMs > 0) ? Number.POSITIVE_INFINITY : now + ttlMs });
    if (now - this.lastSweep >= (this.opts.sweepEveryMs ?? 5_000)) this.sweep(now);
    return this;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired or not (what memory holds; for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  sweep(now = this.now()): void {
    this.lastSweep = now;
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
  }
}
