/**
 * The one machine-readable line every benchmark ends with, one per figure, so two runs (or
 * two commits) can be diffed with `grep '^BENCH '`:
 *
 *   BENCH {"name":"guardrail","metric":"check_p95_ms","value":250.1,"baseline":30.2,"ratio":8.28,"goal":"ratio <= 8 and value <= 300","met":false}
 *
 * - name: the bench and the figure (`intake/discord`), stable across runs.
 * - metric: what value holds, with its unit (`p99_ms`, `served_fraction`, `jobs_per_s`).
 * - baseline: the same metric measured on the baseline in the same run, or null when the
 *   figure has none; ratio is value / baseline (null without a baseline).
 * - goal: clauses joined by ` and `, each `value|ratio <=|<|>=|>|== number`; met is computed
 *   from it unless the caller passes `met` (for a goal that is not a number, such as "zero
 *   non-2xx": say it in the goal text and pass met). A figure without a goal prints
 *   goal null and met null.
 */

export interface BenchFigure {
  name: string;
  metric: string;
  value: number;
  baseline?: number | null;
  goal?: string | null;
  /** Overrides the evaluation of goal; required when goal has a clause that is not a comparison. */
  met?: boolean;
}

export interface BenchLine {
  name: string;
  metric: string;
  value: number | null;
  baseline: number | null;
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
}

const CLAUSE = /^(value|ratio)\s*(<=|<|>=|>|==)\s*(-?\d+(?:\.\d+)?)$/;

/** True when every clause of goal holds; throws on a clause it cannot read (caller must then pass met). */
export function goalMet(goal: string, value: number, ratio: number | null): boolean {
  return goal.split(/\s+and\s+/).every((clause) => {
    const m = CLAUSE.exec(clause.trim());
    if (!m) throw new Error(`bench goal clause not understood: ${JSON.stringify(clause)} (pass met explicitly)`);
    const subject = m[1] === 'value' ? value : ratio;
    if (subject === null || !Number.isFinite(subject)) return false;
    const limit = Number(m[3]);
    switch (m[2]) {
      case '<=':
        return subject <= limit;
      case '<':
        return subject < limit;
      case '>=':
        return subject >= limit;
      case '>':
        return subject > limit;
      default:
        return subject === limit;
    }
  });
}

/** Four significant digits: enough to compare runs, short enough to read. */
function round(n: number | null | undefined): number | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null;
  return Number(n.toPrecision(4));
}

export function benchLine(figure: BenchFigure): BenchLine {
  const baseline = figure.baseline ?? null;
  const ratio = baseline === null || baseline === 0 ? null : figure.value / baseline;
  const goal = figure.goal ?? null;
  const met = figure.met ?? (goal === null ? null : goalMet(goal, figure.value, ratio));
  return { name: figure.name, metric: figure.metric, value: round(figure.value), baseline: round(baseline), ratio: round(ratio), goal, met };
}

export function formatBenchLine(figure: BenchFigure): string {
  return `BENCH ${JSON.stringify(benchLine(figure))}`;
}

/** Prints the figure's BENCH line and returns whether its goal is met. */
export function printBench(figure: BenchFigure): boolean | null {
  const line = benchLine(figure);
  console.log(`BENCH ${JSON.stringify(line)}`);
  return line.met;
}

/**
 * `npm run bench -- --quick`: the same code paths with shorter durations and fewer
 * iterations, for a smoke check of every bench in under 3 minutes. run.ts sets the
 * environment variable so benches' child processes see it too.
 */
export const quick = process.env.USERZ_BENCH_QUICK === '1' || process.argv.includes('--quick');

/** The full figure, or the quick one under --quick. */
export function scale<T>(full: T, quickValue: T): T {
  return quick ? quickValue : full;
}
