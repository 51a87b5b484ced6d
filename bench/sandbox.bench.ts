/**
 * Sandbox start-up cost, same driver and flags throughout, runtime varied:
 *
 * - cold: create → first exec (`node -e 0`) under runsc, against the same under runc
 *   (the baseline). Goal: runsc ≤ 1.8× runc.
 * - first turn, what a run waits for before its agent works: get a sandbox, stream a small
 *   repository in, start the runner, send its task, receive its first model request. The
 *   load's base commit may still be in the making then (the run holds the model's first
 *   answer until it is made); acquire → commit made is printed beside it, with no goal.
 *   Pooled under runsc (the loader and runner already started, DockerSandbox.prestart)
 *   against a cold runc sandbox doing the same. Goal: pool ≤ 0.5× runc cold.
 * - for reference, the old figure: pool acquire → first exec(`node -e 0`) against runc
 *   cold; no goal, since a fresh Node start is exactly what the pool no longer pays.
 * - teardown (goal ≤ 2 s), and the memory an idle sandbox costs the host, pooled or not.
 * --quick: 2 measured runs of each after the warm-up run (full: 10), and idle memory over 2
 * cold sandboxes read after 1 s (full: 4, after 2 s); the same steps and figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PROTOCOL_VERSION } from '../src/runner/index.js';
import { DockerRunscDriver, RUNNER_COMMAND, type Sandbox, type SandboxConfigInput } from '../src/sandbox/index.js';
import { printBench, scale } from './bench-line.js';
import { ms, percentile } from './stats.js';

const RUNS = scale(10, 2);
const IDLE_COLD = scale(4, 2);
const IDLE_SETTLE_MS = scale(2000, 1000);
const MiB = 1024 * 1024;

interface Sample {
  ready: number; // acquire → first exec done, or → first model request
  /** First turn only: acquire → the load's base commit made (under runsc it may come after the first request). */
  committed?: number;
  teardown: number;
}

function config(runtime: string, poolSize: number): SandboxConfigInput {
  return {
    runtime,
    poolSize,
    instance: `bench-${process.pid}`,
    workspaceRoot: mkdtempSync(join(tmpdir(), 'userz-bench-')),
    reapIntervalMs: 3_600_000,
  };
}

/** A small repository as a forge would send it: one top folder, a few files. */
function smallRepoTar(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'userz-bench-repo-'));
  try {
    mkdirSync(join(dir, 'app/src'), { recursive: true });
    writeFileSync(join(dir, 'app/README.md'), '# app\n');
    writeFileSync(join(dir, 'app/package.json'), '{"name":"app","type":"module"}\n');
    writeFileSync(join(dir, 'app/src/total.js'), 'export const total = (xs) => xs.reduce((a, b) => a + b, 0) + 1;\n');
    return execFileSync('tar', ['-c', '-C', dir, 'app']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A first turn reports when its first request arrived and when the base commit was made. */
type Step = (sandbox: Sandbox) => Promise<void | { readyAt: number; committedAt: number }>;

const firstExec: Step = async (sandbox) => {
  const res = await sandbox.exec(['node', '-e', '0']);
  if (res.exitCode !== 0) throw new Error(`node -e 0 exited ${res.exitCode}`);
};

/** Repository in, runner started (or handed over), task sent, first model request read. */
function firstTurn(tar: Buffer): Step {
  return async (sandbox) => {
    const loaded = await sandbox.loadRepository(Readable.from([tar]), { stripComponents: 1 });
    const runner = sandbox.spawn([...RUNNER_COMMAND]);
    runner.stderr.resume();
    const task = {
      type: 'task',
      protocolVersion: PROTOCOL_VERSION,
      system: 'Fix the bug.',
      prompt: 'The total is off by one.',
      tools: ['read_file'],
      maxTurns: 1,
    };
    runner.stdin.write(`${JSON.stringify(task)}\n`);
    let text = '';
    for await (const chunk of runner.stdout) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('\n')) break;
    }
    const first = JSON.parse(text.slice(0, text.indexOf('\n'))) as { type?: string };
    if (first.type !== 'model_request') throw new Error(`runner's first line was ${text.slice(0, 200)}`);
    const readyAt = performance.now();
    await loaded.baseCommit;
    const committedAt = performance.now();
    runner.stdin.end();
    return { readyAt, committedAt };
  };
}

async function measure(runtime: string, poolSize: number, step: Step): Promise<Sample[]> {
  const driver = await DockerRunscDriver.open(config(runtime, poolSize));
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      // Pooled: the member is complete (runner ready), as one is when a run arrives.
      if (poolSize > 0) await driver.warmUp();
      const t0 = performance.now();
      const sandbox = await driver.acquire(`bench-${i}`);
      const turn = await step(sandbox);
      const t1 = performance.now();
      await sandbox.destroy();
      const t2 = performance.now();
      // The first run warms caches.
      if (i > 0) samples.push({ ready: (turn?.readyAt ?? t1) - t0, committed: turn ? turn.committedAt - t0 : undefined, teardown: t2 - t1 });
    }
  } finally {
    await driver.close();
  }
  return samples;
}

const line = (label: string, xs: number[]) =>
  `${label.padEnd(44)} min ${ms(Math.min(...xs)).padStart(10)}  median ${ms(percentile(xs, 50)).padStart(10)}  max ${ms(Math.max(...xs)).padStart(10)}`;

/** Memory charged to each container's cgroup (runsc's sentry and gofer live in it), cgroup v1 or v2. */
function cgroupMemory(containerId: string): number | undefined {
  for (const path of [
    `/sys/fs/cgroup/memory/docker/${containerId}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/memory.current`,
  ]) {
    try {
      return Number(readFileSync(path, 'utf8').trim());
    } catch {
      // try the next layout
    }
  }
  return undefined;
}

/** Idle memory: `count` cold sandboxes that ran Node once, or one full pool member (loader and runner waiting). */
async function idleMemory(pooled: boolean, count: number): Promise<number[]> {
  const input = config('runsc', pooled ? 1 : 0);
  const driver = await DockerRunscDriver.open(input);
  const sandboxes: Sandbox[] = [];
  try {
    if (pooled) await driver.warmUp();
    else {
      for (let i = 0; i < count; i++) {
        const s = await driver.acquire(`idle-${i}`);
        await firstExec(s); // a sandbox that has run something, as a run's would have
        sandboxes.push(s);
      }
    }
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const listed = await driver.config.docker.listContainers({ filters: { label: [`userz.instance=${input.instance}`] } });
    return listed.map((c) => cgroupMemory(c.Id)).filter((n): n is number => n !== undefined);
  } finally {
    await Promise.all(sandboxes.map((s) => s.destroy()));
    await driver.close();
    rmSync(input.workspaceRoot!, { recursive: true, force: true });
  }
}

export default async function (): Promise<void> {
  const tar = smallRepoTar();
  const med = (xs: Sample[]) =>
    percentile(
      xs.map((s) => s.ready),
      50,
    );
  const runcCold = await measure('runc', 0, firstExec);
  const runscCold = await measure('runsc', 0, firstExec);
  const runcTurn = await measure('runc', 0, firstTurn(tar));
  const poolTurn = await measure('runsc', 1, firstTurn(tar));
  const poolExec = await measure('runsc', 1, firstExec);

  console.log(`${RUNS} runs each (after one warm-up run), same driver and flags, runtime varied`);
  console.log(
    line(
      'runc  cold create → first exec(node)',
      runcCold.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runsc cold create → first exec(node)',
      runscCold.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runc  cold create → first turn',
      runcTurn.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runsc pool acquire → first turn',
      poolTurn.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runsc pool acquire → first exec(node)',
      poolExec.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runc  teardown (destroy)',
      runcCold.map((s) => s.teardown),
    ),
  );
  console.log(
    line(
      'runsc teardown (destroy)',
      [...runscCold, ...poolTurn].map((s) => s.teardown),
    ),
  );
  console.log(
    line(
      'runsc pool acquire → base commit made',
      poolTurn.map((s) => s.committed!),
    ),
  );
  console.log('(first turn: small repository streamed in, runner started or handed over, task sent, first model request received;');
  console.log(" the base commit is made meanwhile, and a run holds the model's first answer until it is: see run-stage.ts)");

  const cold = await idleMemory(false, IDLE_COLD);
  const pooled = await idleMemory(true, 1);
  const mib = (xs: number[]) => (xs.length ? xs.map((b) => (b / MiB).toFixed(1)).join(', ') + ' MiB' : 'cgroup not readable here');
  console.log(`memory per idle runsc sandbox (cgroup): ${mib(cold)}; per pool member (loader and runner waiting): ${mib(pooled)}`);

  const teardown = Math.max(...runscCold.map((s) => s.teardown), ...poolTurn.map((s) => s.teardown));
  printBench({ name: 'sandbox/cold_runsc', metric: 'create_to_first_exec_p50_ms', value: med(runscCold), baseline: med(runcCold), goal: 'ratio <= 1.8' });
  printBench({
    name: 'sandbox/pool_first_turn',
    metric: 'acquire_to_first_model_request_p50_ms',
    value: med(poolTurn),
    baseline: med(runcTurn),
    goal: 'ratio <= 0.5',
  });
  printBench({ name: 'sandbox/pool_first_exec', metric: 'acquire_to_first_exec_p50_ms', value: med(poolExec), baseline: med(runcCold) });
  printBench({ name: 'sandbox/teardown', metric: 'worst_destroy_ms', value: teardown, goal: 'value <= 2000' });
  if (cold.length) printBench({ name: 'sandbox/idle_memory', metric: 'cold_sandbox_mib', value: percentile(cold, 50) / MiB });
  if (pooled.length) printBench({ name: 'sandbox/pool_member_memory', metric: 'pool_member_mib', value: percentile(pooled, 50) / MiB });
}
