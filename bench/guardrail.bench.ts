/**
 * Guardrail throughput: a 100,000-path change set against 50 rules (the defaults plus a
 * policy that fills up to 50), compared with a baseline loop that only folds (normalises)
 * each path. Goal: p95 of the full check at most 300 ms on the project machines.
 * --quick: 3 repetitions after 1 warm-up (full: 15 after 3).
 */
import { percentile, ms } from './stats.js';
import { printBench, scale } from './bench-line.js';
import { checkChangeSet, compileRules, foldPath, loadDefaultRules, parsePolicy, type ChangeSet, type ChangeSetEntry } from '../src/guardrail/index.js';

const PATHS = 100_000;
const RULES = 50;
const WARMUP = scale(3, 1);
const REPS = scale(15, 3);

const POLICY_SHAPES = [
  (i: number) => `secrets${i}/**`,
  (i: number) => `**/*.key${i}`,
  (i: number) => `config/prod${i}/*.json`,
  (i: number) => `**/id_rsa${i}*`,
  (i: number) => `deploy/stage${i}/**`,
  (i: number) => `**/credentials${i}.{json,yml}`,
];

function buildPolicyText(count: number): string {
  const lines = ['version: 1', 'forbid:'];
  for (let i = 0; i < count; i++) lines.push(`  - ${JSON.stringify(POLICY_SHAPES[i % POLICY_SHAPES.length]!(i))}`);
  return lines.join('\n');
}

/** Mostly ordinary source paths, some upper case and non-ASCII, about 1% forbidden. */
function buildChangeSet(): ChangeSet {
  const dirs = ['src', 'lib', 'test', 'docs', 'packages/core/src', 'packages/ui/components', 'Assets/Textures'];
  const exts = ['ts', 'js', 'md', 'json', 'css', 'PNG'];
  const entries: ChangeSetEntry[] = [];
  for (let i = 0; i < PATHS; i++) {
    let path = `${dirs[i % dirs.length]}/mod${i % 997}/file${i}.${exts[i % exts.length]}`;
    if (i % 100 === 0) path = [`svc${i}/.env.local`, `.github/workflows/w${i}.yml`, `infra/m${i}.tf`, `secrets3/k${i}`][(i / 100) % 4]!;
    else if (i % 211 === 0) path = `docs/café/über-${i}.md`;
    entries.push({ path, status: 'modified', mode: '100644', size: 0 });
  }
  return { baseCommit: '0'.repeat(40), entries, totalBytes: 0 };
}

/** Wall time, and the process's CPU time (less moved by other processes on a shared machine). */
function time(fn: () => void, cpu: number[]): number {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  fn();
  const used = process.cpuUsage(cpuStart);
  cpu.push((used.user + used.system) / 1000);
  return performance.now() - start;
}

export default async function (): Promise<void> {
  const defaults = await loadDefaultRules();
  const policy = parsePolicy(buildPolicyText(RULES - defaults.rules.length));
  const rules = compileRules(defaults, policy, { maxFiles: PATHS });
  const changeSet = buildChangeSet();
  const paths = changeSet.entries.map((e) => e.path);

  let sink = 0;
  const baseline = (): void => {
    for (const p of paths) sink += foldPath(p).length;
  };
  let rejected = 0;
  const check = (): void => {
    rejected = checkChangeSet(changeSet, rules).violations.length;
  };

  const baseSamples: number[] = [];
  const checkSamples: number[] = [];
  const baseCpu: number[] = [];
  const checkCpu: number[] = [];
  for (let r = 0; r < WARMUP + REPS; r++) {
    if (r === WARMUP) baseCpu.length = checkCpu.length = 0;
    const b = time(baseline, baseCpu);
    const c = time(check, checkCpu);
    if (r >= WARMUP) {
      baseSamples.push(b);
      checkSamples.push(c);
    }
  }

  const [b50, b95, c50, c95] = [percentile(baseSamples, 50), percentile(baseSamples, 95), percentile(checkSamples, 50), percentile(checkSamples, 95)];
  console.log(`${PATHS} paths, ${rules.rules.length} rules, ${REPS} repetitions, ${rejected} violations per check (sink ${sink % 10})`);
  console.log(`baseline (fold only): p50 ${ms(b50)}  p95 ${ms(b95)}`);
  console.log(`checkChangeSet:       p50 ${ms(c50)}  p95 ${ms(c95)}  (goal p95 <= 300 ms: ${c95 <= 300 ? 'met' : 'MISSED'})`);
  console.log(`ratio check/baseline: p50 ${(c50 / b50).toFixed(1)}x  p95 ${(c95 / b95).toFixed(1)}x`);
  const [bc50, cc50] = [percentile(baseCpu, 50), percentile(checkCpu, 50)];
  console.log(`CPU time p50: baseline ${ms(bc50)}  check ${ms(cc50)}  ratio ${(cc50 / bc50).toFixed(1)}x`);
  printBench({ name: 'guardrail/check-100k-x-50', metric: 'p50_ms', value: c50, baseline: b50 });
  printBench({ name: 'guardrail/check-100k-x-50', metric: 'p95_ms', value: c95, baseline: b95, goal: 'ratio <= 8 and value <= 300' });
  printBench({ name: 'guardrail/check-100k-x-50', metric: 'cpu_p50_ms', value: cc50, baseline: bc50 });
}
