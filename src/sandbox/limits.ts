/**
 * Sandbox configuration: resource limits and driver settings, passed in by the composition
 * root (from Config) or by tests with small values. Defaults follow DESIGN.md.
 */
import type Docker from 'dockerode';
import pino, { type Logger } from 'pino';
import type { ChangeSetCaps } from './interface.js';
import { createDockerClient } from './docker-client.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * How the sandbox image starts the agent runner (sandbox-image/: /opt/userz/runner.mjs). The
 * pipeline's DEFAULT_RUNNER_COMMAND is the same argv, so its runs get the pre-started runner.
 */
export const RUNNER_COMMAND: readonly string[] = ['node', '/opt/userz/runner.mjs', '/work'];

export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  tmpBytes: number;
  workspaceBytes: number;
  wallClockMs: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  memoryBytes: 4 * GiB,
  cpus: 2,
  pids: 1024,
  tmpBytes: 64 * MiB,
  workspaceBytes: 8 * GiB,
  wallClockMs: 20 * 60_000,
};

export const DEFAULT_CHANGESET_CAPS: Readonly<ChangeSetCaps> = { maxFiles: 1000, maxBytes: 32 * MiB };

export interface SandboxConfig {
  image: string;
  /** 'runsc' always in service; 'runc' exists only so the benchmark can measure a baseline. */
  runtime: string;
  limits: SandboxLimits;
  /** Host directory holding one fixed-size ext4 workspace image per sandbox (needs root to mount). */
  workspaceRoot: string;
  /** Pristine sandboxes kept started and ready; 0 disables the pool. */
  poolSize: number;
  /**
   * The runner a pool member starts ahead, waiting on stdin for its task; `spawn()` with
   * exactly this argv gets it (once). null: pool members start no runner.
   */
  runnerCommand: readonly string[] | null;
  /** How long a pool member's runner may take to get ready before the member is dropped. */
  prestartTimeoutMs: number;
  reapIntervalMs: number;
  /** Added to the wall clock before the reaper removes a container; also the grace for a containerless workspace. */
  reapMarginMs: number;
  /** Label value separating deployments (and test files) that share one dockerd: the reaper touches only its own. */
  instance: string;
  changeSetCaps: ChangeSetCaps;
  docker: Docker;
  log: Logger;
}

export type SandboxConfigInput = Partial<Omit<SandboxConfig, 'limits' | 'changeSetCaps'>> & {
  limits?: Partial<SandboxLimits>;
  changeSetCaps?: Partial<ChangeSetCaps>;
};

export function resolveSandboxConfig(input: SandboxConfigInput = {}): SandboxConfig {
  return {
    image: input.image ?? 'userz-sandbox:current',
    runtime: input.runtime ?? 'runsc',
    limits: { ...DEFAULT_LIMITS, ...input.limits },
    workspaceRoot: input.workspaceRoot ?? '/var/lib/userz/sandboxes',
    poolSize: input.poolSize ?? 1,
    runnerCommand: input.runnerCommand === undefined ? RUNNER_COMMAND : input.runnerCommand,
    prestartTimeoutMs: input.prestartTimeoutMs ?? 60_000,
    reapIntervalMs: input.reapIntervalMs ?? 60_000,
    reapMarginMs: input.reapMarginMs ?? 60_000,
    instance: input.instance ?? 'default',
    changeSetCaps: { ...DEFAULT_CHANGESET_CAPS, ...input.changeSetCaps },
    docker: createDockerClient(input.docker),
    log: input.log ?? pino({ level: 'silent' }),
  };
}
