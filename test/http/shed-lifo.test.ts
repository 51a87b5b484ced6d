// The shedder's queue under overload: a freed slot goes to the first waiter while the queue
// drains, and to the newest once the first has waited half the bound (adaptive LIFO), so
// the requests that are served do not all carry the whole wait.
import { DEFAULT_SHED, LoadShedder } from '../../src/http/shed.js';

describe('load shedder queue order', () => {
  it('hands a freed slot to the first waiter, then to the newest once the first has waited half the bound', async () => {
    let clock = 0;
    const shedder = new LoadShedder({ ...DEFAULT_SHED, waitMs: 60_000, limits: { ...DEFAULT_SHED.limits, ingest: { inFlight: 1, queue: 4 } } }, () => clock);
    const order: string[] = [];
    const waitFor = (name: string) =>
      shedder.admit('ingest').then((release) => {
        if (!release) throw new Error(`${name} was shed`);
        order.push(name);
        return release;
      });
    const releaseA = shedder.admitNow('ingest');
    expect(typeof releaseA).toBe('function');
    const b = waitFor('b');
    const c = waitFor('c');
    // Queued, not shed: admitNow says "wait" while the queue has room.
    expect(shedder.admitNow('ingest')).toBeUndefined();
    clock = 1_000; // well under half the bound: first come, first served
    (releaseA as () => void)();
    const releaseB = await b;
    const d = waitFor('d');
    clock = 40_000; // c has waited 40 s of 60: the newest (d) goes first
    releaseB();
    const releaseD = await d;
    releaseD();
    const releaseC = await c;
    releaseC();
    expect(order).toEqual(['b', 'd', 'c']);
    expect(shedder.stats().ingest).toEqual({ active: 0, waiting: 0, shed: 0 });
  });

  it('sheds at once, without waiting, when the queue is full', () => {
    const shedder = new LoadShedder({ ...DEFAULT_SHED, limits: { ...DEFAULT_SHED.limits, ingest: { inFlight: 1, queue: 0 } } });
    const release = shedder.admitNow('ingest');
    expect(typeof release).toBe('function');
    expect(shedder.admitNow('ingest')).toBeNull();
    (release as () => void)();
    expect(shedder.stats().ingest).toEqual({ active: 0, waiting: 0, shed: 1 });
  });
});
