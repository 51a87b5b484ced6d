/**
 * The warm pool's hand-out rules with stand-in members (the real ones are in lifecycle.test.ts):
 * each member once, and an empty pool's taker waits for a member already being made only
 * when nobody else waits for it.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { WarmPool, type PoolMember } from '../../src/sandbox/pool.js';

class Member implements PoolMember {
  destroyed = false;
  constructor(readonly id: number) {}
  isAlive(): Promise<boolean> {
    return Promise.resolve(!this.destroyed);
  }
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
}

/** A create() whose calls the test finishes by hand. */
function gatedCreate() {
  const pending: { resolve: (m: Member) => void; reject: (e: Error) => void }[] = [];
  let made = 0;
  const create = () => new Promise<Member>((resolve, reject) => pending.push({ resolve: (m) => resolve(m), reject }));
  const started = async (n: number) => {
    while (pending.length < n) await new Promise((r) => setImmediate(r));
  };
  return { create, pending, started, next: () => new Member(++made) };
}

const log = pino({ level: 'silent' });

/** Closes the pool, finishing the refill it started after a hand-out (close waits for it). */
async function closeAll(pool: WarmPool<Member>, gate: ReturnType<typeof gatedCreate>): Promise<void> {
  const closed = pool.close();
  let done = false;
  void closed.then(() => (done = true));
  while (!done) {
    gate.pending.shift()?.resolve(gate.next());
    await new Promise((r) => setImmediate(r));
  }
}

describe('WarmPool', () => {
  it('hands a ready member out once, then waits for the one being made', async () => {
    const gate = gatedCreate();
    const pool = new WarmPool(1, gate.create, log);
    const filled = pool.fill();
    await gate.started(1);
    const first = gate.next();
    gate.pending.shift()!.resolve(first);
    await filled;
    expect(await pool.take()).toBe(first);

    void pool.fill();
    await gate.started(1);
    const waiting = pool.take();
    // Only one member is being made: a second taker does not queue behind the first.
    await expect(pool.take()).resolves.toBeUndefined();
    const second = gate.next();
    gate.pending.shift()!.resolve(second);
    await expect(waiting).resolves.toBe(second);
    expect(pool.readyCount).toBe(0);
    await closeAll(pool, gate);
  });

  it('lets a waiting taker cold-start when making the member fails, and when nothing is being made', async () => {
    const gate = gatedCreate();
    const pool = new WarmPool(1, gate.create, log);
    await expect(pool.take()).resolves.toBeUndefined();
    void pool.fill();
    await gate.started(1);
    const waiting = pool.take();
    gate.pending.shift()!.reject(new Error('docker said no'));
    await expect(waiting).resolves.toBeUndefined();
    await closeAll(pool, gate);
  });

  it('destroys a member that died while it was being waited for', async () => {
    const gate = gatedCreate();
    const pool = new WarmPool(1, gate.create, log);
    void pool.fill();
    await gate.started(1);
    const waiting = pool.take();
    const dead = gate.next();
    dead.destroyed = true;
    gate.pending.shift()!.resolve(dead);
    await expect(waiting).resolves.toBeUndefined();
    await closeAll(pool, gate);
  });
});
