/**
 * Sandbox start-up cost. Cold: create → first exec (`node -e 0`) → destroy, under runsc
 * and under runc (the baseline, same driver and flags); warm: pool acquire → first exec
 * under runsc. Goals: pool ≤ 0.5× runc cold, runsc cold ≤ 2× runc cold, teardown ≤ 2 s.
 * Also the memory one idle sandbox costs the host.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRunscDriver, type Sandbox, type SandboxConfigInput } from '../src/sandbox/index.js';
import { ms, percentile } from './stats.js';

const RUNS = 10;
const MiB = 1024 * 1024;

interface Sample {
  ready: number; // acquire → first exec done
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

async function firstExec(sandbox: Sandbox): Promise<void> {
  const res = await sandbox.exec(['node', '-e', '0']);
  if (res.exitCode !== 0) throw new Error(`node -e 0 exited ${res.exitCode}`);
}

async function measure(runtime: string, poolSize: number): Promise<Sample[]> {
  const driver = await DockerRunscDriver.open(config(runtime, poolSize));
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      if (poolSize > 0) await driver.warmUp();
      const t0 = performance.now();
      const sandbox = await driver.acquire(`bench-${i}`);
      await firstExec(sandbox);
      const t1 = performance.now();
      await sandbox.destroy();
      const t2 = performance.now();
      if (i > 0) samples.push({ ready: t1 - t0, teardown: t2 - t1 }); // the first run warms caches
    }
  } finally {
    await driver.close();
  }
  return samples;
}

const line = (label: string, xs: number[]) =>
  `${label.padEnd(36)} min ${ms(Math.min(...xs)).padStart(10)}  median ${ms(percentile(xs, 50)).padStart(10)}  max ${ms(Math.max(...xs)).padStart(10)}`;

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

async function idleMemory(count: number): Promise<number[]> {
  const input = config('runsc', 0);
  const driver = await DockerRunscDriver.open(input);
  const sandboxes: Sandbox[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await driver.acquire(`idle-${i}`);
      await firstExec(s); // a sandbox that has run something, as a run's would have
      sandboxes.push(s);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const listed = await driver.config.docker.listContainers({ filters: { label: [`userz.instance=${input.instance}`] } });
    return listed.map((c) => cgroupMemory(c.Id)).filter((n): n is number => n !== undefined);
  } finally {
    await Promise.all(sandboxes.map((s) => s.destroy()));
    await driver.close();
    rmSync(input.workspaceRoot!, { recursive: true, force: true });
  }
}

async function poolToTrue(): Promise<number[]> {
  const driver = await DockerRunscDriver.open(config('runsc', 1));
  const xs: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await driver.warmUp();
      const t0 = performance.now();
      const sandbox = await driver.acquire(`bench-true-${i}`);
      await sandbox.exec(['true']);
      xs.push(performance.now() - t0);
      await sandbox.destroy();
    }
  } finally {
    await driver.close();
  }
  return xs;
}

export default async function (): Promise<void> {
  const runc = await measure('runc', 0);
  const runsc = await measure('runsc', 0);
  const pool = await measure('runsc', 1);
  const med = (xs: Sample[], k: keyof Sample) =>
    percentile(
      xs.map((s) => s[k]),
      50,
    );

  console.log(`${RUNS} runs each (after one warm-up run), same driver and flags, runtime varied`);
  console.log(
    line(
      'runc  cold create → first exec',
      runc.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runsc cold create → first exec',
      runsc.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runsc pool acquire → first exec',
      pool.map((s) => s.ready),
    ),
  );
  console.log(
    line(
      'runc  teardown (destroy)',
      runc.map((s) => s.teardown),
    ),
  );
  console.log(
    line(
      'runsc teardown (destroy)',
      runsc.map((s) => s.teardown),
    ),
  );
  const base = med(runc, 'ready');
  const coldRatio = med(runsc, 'ready') / base;
  const poolRatio = med(pool, 'ready') / base;
  const teardown = Math.max(...runsc.map((s) => s.teardown), ...pool.map((s) => s.teardown));
  console.log(`ratio runsc cold / runc cold: ${coldRatio.toFixed(2)}x (goal <= 2)`);
  console.log(`ratio runsc pool / runc cold: ${poolRatio.toFixed(2)}x (goal <= 0.5)`);
  console.log(`worst runsc teardown: ${ms(teardown)} (goal <= 2000 ms)`);

  // Where the pool time goes: acquiring is a few ms; the rest is starting Node under gVisor.
  console.log(line('runsc pool acquire → first exec(true)', await poolToTrue()));

  const memory = await idleMemory(4);
  if (memory.length > 0) {
    console.log(`memory per idle runsc sandbox (cgroup): ${memory.map((b) => (b / MiB).toFixed(1)).join(', ')} MiB`);
  } else {
    console.log('memory per idle runsc sandbox: cgroup not readable here');
  }
}
