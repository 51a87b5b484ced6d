import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';

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
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createCache(opts: { kind: 'memory' } | { kind: 'redis'; url: string }, namespace = 'userz'): Cache {
  return opts.kind === 'redis' ? createRedisCache(opts.url, namespace) : createMemoryCache(namespace);
}

function createMemoryCache(namespace: string): Cache {
  const keyv = new Keyv({ namespace });
  const counters = new Map<string, { n: number; expires: number }>();
  const marks = new Map<string, number>();
  return {
    get: async <T>(key: string) => (await keyv.get(key)) as T | undefined,
    set: async (key, value, ttlMs) => {
      await keyv.set(key, value, ttlMs);
    },
    // Check and set happen synchronously on a Map: no await between them, so two
    // concurrent callers cannot both win (keyv's async get/set could interleave).
    setIfAbsent: async (key, _value, ttlMs) => {
      const now = Date.now();
      const seen = marks.get(key);
      if (seen !== undefined && seen > now) return false;
      marks.set(key, now + ttlMs);
      if (marks.size > 100_000) pruneExpired(marks, now);
      return true;
    },
    increment: async (key, ttlMs) => {
      const now = Date.now();
      const c = counters.get(key);
      if (!c || c.expires <= now) {
        counters.set(key, { n: 1, expires: now + ttlMs });
        if (counters.size > 100_000) pruneExpired(counters, now);
        return 1;
      }
      c.n++;
      return c.n;
    },
    delete: async (key) => {
      counters.delete(key);
      marks.delete(key);
      await keyv.delete(key);
    },
    ping: async () => undefined,
    close: async () => {
      await keyv.disconnect();
    },
  };
}

function pruneExpired(map: Map<string, number | { expires: number }>, now: number): void {
  for (const [k, v] of map) if ((typeof v === 'number' ? v : v.expires) <= now) map.delete(k);
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
