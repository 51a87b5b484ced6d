/**
 * The SandboxDriver port. The pipeline runs every agent in a Sandbox it acquires from a
 * driver, and destroys it on every exit path. The Docker + gVisor driver lives in
 * docker-runsc.ts; a Kubernetes driver (runtimeClassName gvisor) would be a second one.
 */
import type { Readable, Writable } from 'node:stream';
import type { ChangeSet } from '../guardrail/index.js';

export interface ExecOptions {
  stdin?: Readable | Buffer;
  /** Kills the command (its whole process group) after this long. */
  timeoutMs?: number;
  /** Caps stdout + stderr kept in host memory; past it: UserzError sandbox_output_too_large. */
  maxOutputBytes?: number;
  /** Fixed, non-secret additions to the sandbox environment for this command (setup's proxy variables). */
  env?: readonly string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  /** The command was killed by `timeoutMs`. */
  timedOut: boolean;
}

/** A process inside the sandbox with its stdio attached: the runner's JSON-lines channel. */
export interface SandboxProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Exit code; rejects with sandbox_timeout when the wall clock killed the sandbox. */
  wait(): Promise<number>;
}

export interface LoadRepositoryOptions {
  /** Leading path components to drop (forge archives wrap everything in one folder). Default 1. */
  stripComponents?: number;
  /** The forge commit the archive was made from; becomes ChangeSet.baseCommit. */
  sourceCommit?: string;
  /**
   * Files of the loaded tree to read in the same step, path → byte cap: each one that is a
   * regular file (not a symlink, not under a symlinked folder) comes back with its first
   * cap + 1 bytes, so a caller sees whether it was cut. Saves an exec per file.
   */
  readAhead?: Readonly<Record<string, number>>;
}

export interface LoadedRepository {
  /**
   * The commit the sandbox makes of the tree as loaded, still being made when loadRepository
   * resolves (the tree and its manifest are complete then): a run sends its agent the task
   * meanwhile. Every later exec, spawn (but the pre-started runner's, whose caller holds
   * back the agent's first answer, see pipeline/run-stage.ts) and read of the sandbox waits
   * for it. Rejects with sandbox_load_failed when the commit could not be made.
   */
  baseCommit: Promise<string>;
  /** The `readAhead` files found as regular files; a path absent here is missing or is not one. */
  files: ReadonlyMap<string, Buffer>;
}

export interface ChangeSetCaps {
  maxFiles: number;
  maxBytes: number;
}

/**
 * The sandbox's one possible path out: a host directory, mounted read-only inside, that is
 * empty except while setup's egress proxy listens on a Unix socket in it (egress/).
 */
export interface EgressSlot {
  /** The socket's path on the host. */
  hostSocket: string;
  /** The same socket as the sandbox's processes see it. */
  sandboxSocket: string;
}

export interface Sandbox {
  readonly runId: string;
  readonly egressSlot: EgressSlot;
  /**
   * Streams a tar archive into the workspace (never to a host file) and resolves once the
   * tree is in place and walked; the workspace then becomes a git repository with one
   * commit by a fixed Userz identity, whose making `baseCommit` reports.
   */
  loadRepository(tar: Readable, opts?: LoadRepositoryOptions): Promise<LoadedRepository>;
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * A process with its stdio attached. In a pooled sandbox, the driver's runner command
   * is already running, waiting on stdin: spawning exactly that argv hands it out (once).
   */
  spawn(argv: string[]): SandboxProcess;
  /**
   * The workspace tree compared with the tree loaded by loadRepository, computed by the
   * host's own walker (git state, the index and anything the runner says are ignored).
   * Every process of the sandbox user is ended first (process-sweep.ts), so nothing the
   * agent started still writes while, or after, the tree is read.
   * Over the caps: UserzError changeset_too_large.
   */
  readChangeSet(caps?: Partial<ChangeSetCaps>): Promise<ChangeSet>;
  /**
   * Runs `fn` (a host-run command: setup, checks) and folds whatever the tree gained, lost
   * or changed while it ran into the base readChangeSet compares with: node_modules from
   * setup or a cache a test writes is not the agent's change. The forge base commit stays.
   */
  ignoreChangesDuring<T>(fn: () => Promise<T>): Promise<T>;
  /** Kills and removes the container and its workspace. Idempotent. */
  destroy(): Promise<void>;
}

export interface ReapResult {
  containers: number;
  workspaces: number;
}

export interface SandboxDriver {
  /** A sandbox for this run: from the warm pool when one is ready, else a cold start. */
  acquire(runId: string): Promise<Sandbox>;
  /** Removes this instance's containers and workspaces that outlived the wall clock, or lost their container. */
  reap(): Promise<ReapResult>;
  /** Stops the reaper and the pool, and destroys every sandbox this driver still holds. */
  close(): Promise<void>;
}
