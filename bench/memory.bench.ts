/**
 * Bounded memory: three runs of USERZ_BENCH_STEADY_S (60 s by default) of widget ingest at
 * half the measured capacity (bench/ingest-server.ts, Postgres, memory cache), RSS and the
 * JS heap after a full GC printed after each. They should plateau: the third run within
 * 10 % of the first (caches expire by time, store/expiring-map.ts).
 * --quick (a smoke check, not a plateau): 3 s runs, a 1 s warm-up and a 2 s capacity run,
 * the same phases and figures.
 */
import { printBench, scale } from './bench-line.js';
import { mb, startIngestServer, statusText } from './ingest-server.js';
import { percentile } from './stats.js';

const STEADY_S = Number(process.env.USERZ_BENCH_STEADY_S ?? scale(60, 3));
const WARMUP_S = scale(2, 1);
const CAPACITY_S = scale(5, 2);

export default async function (): Promise<void> {
  const server = await startIngestServer();
  const runs: Array<{ rssMb: number; heapMb: number }> = [];
  try {
    await server.load({ seconds: WARMUP_S, connections: 16, rate: 200 }); // warm-up
    const capacityRun = await server.load({ seconds: CAPACITY_S, connections: 64 });
    const rate = Math.max(25, Math.round(capacityRun.served.length / CAPACITY_S / 2));
    const start = await server.sample();
    console.log(
      `steady load: ${rate} req/s (half of the ${rate * 2} req/s served unthrottled); before: RSS ${mb(start.rssMb)}, heap after GC ${mb(start.heapMb)}`,
    );
    for (let i = 1; i <= 3; i++) {
      const r = await server.load({ seconds: STEADY_S, connections: 32, rate });
      const s = await server.sample();
      runs.push(s);
      console.log(
        `steady run ${i} (${STEADY_S} s at ${rate} req/s, served ${r.served.length}, p99 ${percentile(r.served, 99).toFixed(0)} ms, statuses ${statusText(r.statuses)}): RSS ${mb(s.rssMb)}, heap after GC ${mb(s.heapMb)}`,
      );
    }
    console.log(`post-GC heap over the runs: ${runs.map((s) => mb(s.heapMb)).join(' → ')}; RSS ${runs.map((s) => mb(s.rssMb)).join(' → ')}`);
  } finally {
    await server.stop();
  }
  printBench({ name: 'memory/steady_rss_run3', metric: 'rss_mb', value: runs[2]!.rssMb, baseline: runs[0]!.rssMb, goal: 'ratio <= 1.1' });
  printBench({ name: 'memory/steady_heap_run3', metric: 'heap_after_gc_mb', value: runs[2]!.heapMb, baseline: runs[0]!.heapMb, goal: 'ratio <= 1.1' });
}
