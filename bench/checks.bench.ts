/**
 * What the repository's setup and checks add to a run (issue 18), in the real sandbox, on
 * examples/try/repo: the whole run stage (load, setup, agent, final checks, reproducing
 * test before and after) with its `.userz.yml` and the fixing script that calls
 * run_checks twice, against the same stage with no setup or check and a script making the
 * same edits without asking for checks (the baseline: the agent run alone). Both start a
 * cold sandbox (no pool), so the difference is setup, checks and their tree walks.
 * No goal: the added time is the repository's own test time; the figure is for reading.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import pino from 'pino';
import { DEFAULT_RUN_BUDGET } from '../src/broker/index.js';
import { ScriptedModelClient, type ScriptStep } from '../src/model/index.js';
import { runStage } from '../src/pipeline/index.js';
import { DockerRunscDriver, RUNNER_COMMAND } from '../src/sandbox/index.js';
import { printBench, scale } from './bench-line.js';
import { ms, percentile } from './stats.js';

const RUNS = scale(3, 1);
const EXAMPLE = fileURLToPath(new URL('../examples/try/', import.meta.url));

/** The example repository as a forge archive (one top folder), with its .userz.yml or a policy without setup and checks. */
function repoTar(withChecks: boolean): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'userz-bench-checks-'));
  try {
    cpSync(join(EXAMPLE, 'repo'), join(dir, 'repo'), { recursive: true });
    if (!withChecks) writeFileSync(join(dir, 'repo/.userz.yml'), 'forbid:\n  - "src/prices/**"\n');
    return execFileSync('tar', ['-c', '-C', dir, 'repo']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ScriptFile {
  agent: Array<{ content?: string; toolCalls?: Array<{ id?: string; name: string; arguments: Record<string, unknown> }> }>;
}

function fixScript(withChecks: boolean): ScriptStep[] {
  const script = JSON.parse(readFileSync(join(EXAMPLE, 'fix.script.json'), 'utf8')) as ScriptFile;
  let n = 0;
  return (
    script.agent
      .map((t) => ({
        content: t.content ?? '',
        toolCalls: (t.toolCalls ?? []).filter((c) => withChecks || !['run_checks', 'declare_reproducing_test'].includes(c.name)),
      }))
      // A turn left with no call would end the run early: only the summary turn has none.
      .filter((t, i, all) => t.toolCalls.length > 0 || i === all.length - 1)
      .map((t) => ({ content: t.content, toolCalls: t.toolCalls.map((c) => ({ id: c.id ?? `call_${(n += 1)}`, name: c.name, arguments: c.arguments })) }))
  );
}

interface Sample {
  totalMs: number;
  setupMs: number;
  checksMs: number;
}

export default async function (): Promise<void> {
  const driver = await DockerRunscDriver.open({
    poolSize: 0,
    instance: `bench-checks-${process.pid}`,
    workspaceRoot: mkdtempSync(join(tmpdir(), 'userz-bench-')),
    reapIntervalMs: 3_600_000,
    limits: { memoryBytes: 1024 * 1024 * 1024, cpus: 1, workspaceBytes: 256 * 1024 * 1024 },
  });
  const log = pino({ level: 'silent' });
  const tars = { alone: repoTar(false), checks: repoTar(true) };
  const once = async (withChecks: boolean): Promise<Sample> => {
    const sandbox = await driver.acquire(`bench-${Date.now()}`);
    try {
      const started = performance.now();
      const stage = await runStage({
        sandbox,
        archive: { tar: Readable.from([withChecks ? tars.checks : tars.alone]), baseCommit: 'b'.repeat(40) },
        agent: new ScriptedModelClient(fixScript(withChecks)),
        budget: DEFAULT_RUN_BUDGET,
        task: { system: 'Fix the bug.', prompt: 'The cart total ignores quantities.' },
        runnerCommand: [...RUNNER_COMMAND],
        log,
      });
      const totalMs = performance.now() - started;
      if (stage.outcome?.kind !== 'completed' || !stage.changeSet?.entries.length) throw new Error(`the stage did not complete: ${stage.outcome?.kind}`);
      if (withChecks && (stage.checks.status !== 'passed' || !stage.checks.reproduced))
        throw new Error(`checks ${stage.checks.status}, reproduced ${stage.checks.reproduced}`);
      return { totalMs, setupMs: stage.checks.setupMs, checksMs: stage.checks.checksMs };
    } finally {
      await sandbox.destroy();
    }
  };
  try {
    await once(false); // warm-up: image layers and the runner's first start
    const alone: Sample[] = [];
    const checks: Sample[] = [];
    // Interleaved, so the machine's load changes hit both alike.
    for (let i = 0; i < RUNS; i++) {
      alone.push(await once(false));
      checks.push(await once(true));
    }
    const med = (xs: Sample[], k: keyof Sample) =>
      percentile(
        xs.map((s) => s[k]),
        50,
      );
    const aloneMs = med(alone, 'totalMs');
    const withMs = med(checks, 'totalMs');
    console.log(`${RUNS} runs each (after one warm-up), cold runsc sandbox, examples/try/repo, scripted agent`);
    console.log(`run stage, agent alone (no setup, no checks):            ${ms(aloneMs)}`);
    console.log(`run stage with setup, 2 run_checks, final checks, repro: ${ms(withMs)}`);
    console.log(`  of which setup commands ${ms(med(checks, 'setupMs'))}, check commands and reproduction ${ms(med(checks, 'checksMs'))}`);
    printBench({ name: 'checks/run_stage', metric: 'p50_ms', value: withMs, baseline: aloneMs });
    printBench({ name: 'checks/added', metric: 'p50_ms', value: withMs - aloneMs });
  } finally {
    await driver.close();
  }
}
