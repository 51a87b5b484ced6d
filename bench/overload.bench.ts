/**
 * Overload: widget ingest through the load shedder (http/shed.ts) on Postgres, server in a
 * child process (bench/ingest-server.ts).
 *   1. capacity: unthrottled load for a few seconds measures what the server serves;
 *   2. normal: half of that; RSS (after a GC) taken after it is the baseline;
 *   3. three bursts at 3× capacity: p99 of the requests that were served (2xx), answers
 *      other than 2xx/503/429 and socket errors, peak RSS, the server's event-loop delay;
 *      after each, idle until RSS is back within 1.1× of normal (at most 60 s).
 * Goals (issue 17): served p99 < 1 s, everything else 503/429, peak RSS ≤ 1.5× normal and
 * back within 60 s, in every burst. Memory under steady load: bench/memory.bench.ts.
 * --quick (a smoke check): 1 s warm-up, 2 s capacity, 3 s normal, three 2 s bursts, and
 * after each an RSS recovery window of at most 5 s checked every 0.5 s (the full run's
 * window is the goal's 60 s, checked every 2 s); the same phases and figures.
 */
import { cpus, loadavg } from 'node:os';
import { DEFAULT_SHED } from '../src/http/shed.js';
import { printBench, scale, type BenchFigure } from './bench-line.js';
import { mb, startIngestServer, statusText } from './ingest-server.js';
import { percentile } from './stats.js';

const BURSTS = 3;
const BURST_S = scale(15, 2);
const AFTER_S = Number(process.env.USERZ_BENCH_AFTER_S ?? scale(60, 5));
const AFTER_POLL_MS = scale(2_000, 500);
const WARMUP_S = scale(2, 1);
const CAPACITY_S = scale(5, 2);
const NORMAL_S = scale(10, 3);

export default async function (): Promise<void> {
  const server = await startIngestServer();
  const figures: BenchFigure[] = [];
  try {
    console.log(
      `widget ingest on Postgres, shed limits ${JSON.stringify(DEFAULT_SHED.limits.ingest)} wait ${DEFAULT_SHED.waitMs} ms, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
    );
    await server.load({ seconds: WARMUP_S, connections: 16, rate: 200 }); // warm-up
    const capacityRun = await server.load({ seconds: CAPACITY_S, connections: 64 });
    const capacity = Math.max(50, Math.round(capacityRun.served.length / CAPACITY_S));
    console.log(`capacity: ${capacity} req/s served (unthrottled, 64 connections, p99 ${percentile(capacityRun.served, 99).toFixed(0)} ms)`);

    const normal = await server.load({ seconds: NORMAL_S, connections: 32, rate: Math.round(capacity / 2) });
    const normalMem = await server.sample();
    const normalPeak = await server.peak();
    console.log(
      `normal ${Math.round(capacity / 2)} req/s for ${NORMAL_S} s: p99 ${percentile(normal.served, 99).toFixed(0)} ms, statuses ${statusText(normal.statuses)}, RSS ${mb(normalMem.rssMb)} (peak ${mb(normalPeak.rssMb)}), heap after GC ${mb(normalMem.heapMb)}, event loop p99 ${normalPeak.loopP99Ms.toFixed(0)} ms`,
    );

    for (let i = 1; i <= BURSTS; i++) {
      const burst = await server.load({ seconds: BURST_S, connections: 600, rate: capacity * 3 });
      const peak = await server.peak();
      const all = [...burst.statuses.values()].reduce((a, b) => a + b, 0);
      const shed = (burst.statuses.get(503) ?? 0) + (burst.statuses.get(429) ?? 0);
      const other = all - burst.served.length - shed + burst.errors;
      const p99 = percentile(burst.served, 99);
      console.log(
        `burst ${i}: ${capacity * 3} req/s offered (3x) for ${BURST_S} s: served ${burst.served.length} (${Math.round(burst.served.length / BURST_S)} req/s), served p99 ${p99.toFixed(0)} ms, 503/429 ${shed} of ${all} (${((100 * shed) / Math.max(1, all)).toFixed(1)}%), statuses ${statusText(burst.statuses)}, socket errors ${burst.errors}, peak RSS ${mb(peak.rssMb)}, event loop p99 ${peak.loopP99Ms.toFixed(0)} ms, served p99 inside the server ${peak.serverP99Ms.toFixed(0)} ms`,
      );
      const t0 = Date.now();
      let after = await server.sample();
      while (after.rssMb > normalMem.rssMb * 1.1 && Date.now() - t0 < AFTER_S * 1000) {
        await new Promise((r) => setTimeout(r, AFTER_POLL_MS));
        after = await server.sample();
      }
      const backS = (Date.now() - t0) / 1000;
      console.log(`  after burst ${i}: RSS ${mb(after.rssMb)} after ${backS.toFixed(0)} s, heap after GC ${mb(after.heapMb)}`);
      figures.push(
        { name: `overload/burst${i}/served_p99`, metric: 'p99_ms', value: p99, goal: 'value < 1000' },
        { name: `overload/burst${i}/neither_served_nor_shed`, metric: 'count', value: other, goal: 'value == 0' },
        { name: `overload/burst${i}/peak_rss`, metric: 'rss_mb', value: peak.rssMb, baseline: normalMem.rssMb, goal: 'ratio <= 1.5' },
        { name: `overload/burst${i}/rss_after_idle`, metric: 'rss_mb', value: after.rssMb, baseline: normalMem.rssMb, goal: 'ratio <= 1.1' },
      );
    }
  } finally {
    await server.stop();
  }
  for (const f of figures) printBench(f);
}
