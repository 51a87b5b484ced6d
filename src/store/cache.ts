import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { ExpiringMap } from './expiring-map.js';

/**
 * The cache port: sessions, rate-limit buckets, the replay guard. Memory by default,
 * Redis in production. Nothing in it is needed to rebuild state.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Sets only when absent; true when this call set it. Used by the replay guard. */
  setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /** Atomic increment of a counter that expires ttlMs after it is created. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** The current value of an `increment` counter (0 when absent or expired); never changes it. */
  count(key: string): Promise<number>;
  delete(key: string): Promise<void>;
  /** Entries held in process memory, expired ones not yet swept included (memory store only). */
  memoryEntries?(): number;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface MemoryCacheOptions {
  /** The clock entries expire by (tests pass a fake one). */
  now?: () => number;
}

export function createCache(opts: ({ kind: 'memory' } & MemoryCacheOptions) | { kind: 'redis'; url: string }, namespace = 'userz'): Cache {
  return opts.kind === 'redis' ? createRedisCache(opts.url, namespace) : createMemoryCache(namespace, opts);
}

/**
 * Every map here expires by time (store/expiring-map.ts), so a steady load holds only what
 * arrived within each entry's TTL; a count bound alone let marks and counters pile up
 * until 100,000 and kept keyv's entries until read.
 */
function createMemoryCache(namespace: string, opts: MemoryCacheOptions = {}): Cache {
  const values = new ExpiringMap<unknown>({ now: opts.now });
  const keyv = new Keyv({ namespace, store: values });
  const counters = new ExpiringMap<{ n: number }>({ now: opts.now });
  const marks = new ExpiringMap<true>({ now: opts.now });
  return {
    get: async <T>(key: string) => (await keyv.get(key)) as T | undefined,
    set: async (key, value, ttlMs) => {
      await keyv.set(key, value, ttlMs);
    },
    // Check and set happen synchronously on a Map: no await between them, so two
    // concurrent callers cannot both win (keyv's async get/set could interleave).
    setIfAbsent: async (key, _value, ttlMs) => {
      if (marks.has(key)) return false;
      marks.set(key, true, ttlMs);
      return true;
    },
    increment: async (key, ttlMs) => {
      const c = counters.get(key);
      if (!c) {
        counters.set(key, { n: 1 }, ttlMs);
        return 1;
      }
      c.n++;
      return c.n;
    },
    count: async (key) => counters.get(key)?.n ?? 0,
    delete: async (key) => {
      counters.delete(key);
      marks.delete(key);
      await keyv.delete(key);
    },
    ping: async () => undefined,
    close: async () => {
      await keyv.disconnect();
    },
    memoryEntries: () => values.size + counters.size + marks.size,
  };
}

function createRedisCache(url: string, namespace: string): Cache {
  const store = new KeyvRedis(url, { throwOnConnectError: false });
  const keyv = new Keyv({ store, namespace, useKeyPrefix: false });
  const full = (key: string) => `${namespace}:${key}`;
  const client = async () => store.getClient();
  return {
    get: async <T>(key: string) => (await keyv.get(key)) as T | undefined,
    set: async (key, value, ttlMs) => {
      await keyv.set(key, value, ttlMs);
    },
    // Redis SET NX PX is atomic across every process sharing the server.
    setIfAbsent: async (key, value, ttlMs) => {
      const c = await client();
      const r = await c.set(full(`nx:${key}`), JSON.stringify(value), { NX: true, PX: ttlMs });
      return r === 'OK';
    },
    increment: async (key, ttlMs) => {
      const c = await client();
      const k = full(`ctr:${key}`);
      const n = await c.incr(k);
      if (n === 1) await c.pExpire(k, ttlMs);
      return n;
    },
    count: async (key) => {
      const c = await client();
      return Number((await c.get(full(`ctr:${key}`))) ?? 0);
    },
    delete: async (key) => {
      const c = await client();
      await c.del([full(`nx:${key}`), full(`ctr:${key}`)]);
      await keyv.delete(key);
    },
    ping: async () => {
      const c = await client();
      await c.ping();
    },
    close: async () => {
      await keyv.disconnect();
    },
  };
}
