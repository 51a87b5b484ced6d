/**
 * One run's sandbox: a runsc container idling under tini, its ext4 workspace at /work,
 * a wall clock, and the repository-in / change-set-out transfers.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { UserzError, errorMessage } from '../errors.js';
import { gitShellExports, RUNNER_READY_ENV, RUNNER_READY_LINE } from '../runner/index.js';
import type { ChangeSet } from '../guardrail/index.js';
import { buildChangeSet, parseManifest, serializeManifest, type BaseManifest } from './change-set-read.js';
import { buildContainerSpec, containerName, EGRESS_PATH, EGRESS_SOCKET_NAME } from './container-spec.js';
import { attachProcess, completeExec, execInContainer, spawnInContainer, startExec, type ExecHooks, type StartedExec } from './docker-exec.js';
import type { ChangeSetCaps, EgressSlot, ExecOptions, ExecResult, LoadedRepository, LoadRepositoryOptions, Sandbox, SandboxProcess } from './interface.js';
import type { SandboxConfig } from './limits.js';
import { PROCESS_SWEEP_SOURCE, SWEEP_EXIT_CODE } from './process-sweep.js';
import { TREE_WALK_SOURCE } from './tree-walk.js';
import { createWorkspace, removeWorkspace, workspacePaths, type Workspace } from './workspace.js';

const MiB = 1024 * 1024;

// The load, in one exec: unpack the stream from stdin, walk the tree (the manifest), then
// commit it as the base and print the commit. The manifest comes first, so that a run can
// send its agent the task while the commit is made (LoadedRepository.baseCommit); nothing
// runs in the tree until it is made (DockerSandbox.afterLoad), so both see the same tree.
// Fixed identity and dates, so the same tree gives the same commit.
// The tree never brings its own git: every `.git` in it (top level or nested, directory or
// gitfile) is left out, so the repository git works on is the fresh one made here, whose
// config names no program, and which no hook, fsmonitor or filter of the tree's can reach.
// `* !filter` in info/attributes (it outranks every .gitattributes) unsets filter drivers
// too; git's config is forced as in the runner (src/runner/git-config.ts).
// Both shells are started by the loader ahead of their input (a process start costs tens of
// ms under gVisor): the strip count, then the archive, for the first; the word to go for the
// second. dash's read takes a line byte by byte, leaving the tar stream whole.
const UNPACK_SHELL = [
  'set -e',
  gitShellExports(),
  'read -r strip',
  'case "$strip" in [0-9] | 1[0-6]) ;; *) exit 2 ;; esac',
  'exec tar -x -f - --strip-components="$strip" --exclude=.git -C /work',
].join('\n');

const COMMIT_SHELL = [
  'set -e',
  gitShellExports(),
  'export GIT_AUTHOR_NAME=Userz GIT_AUTHOR_EMAIL=userz@users.invalid GIT_COMMITTER_NAME=Userz GIT_COMMITTER_EMAIL=userz@users.invalid',
  'export GIT_AUTHOR_DATE=2000-01-01T00:00:00Z GIT_COMMITTER_DATE=2000-01-01T00:00:00Z',
  'read -r go',
  '[ "$go" = go ] || exit 2',
  // Shell builtins where they do.
  'if [ -e /work/.git ] || [ -L /work/.git ]; then rm -rf /work/.git; fi',
  'export GIT_DIR=/work/.git GIT_WORK_TREE=/work',
  'git init -q -b main',
  '[ -d /work/.git/info ] || mkdir /work/.git/info',
  "printf '* !filter\\n' > /work/.git/info/attributes",
  'git add -A -f',
  'git commit -q --allow-empty --no-verify -m "Repository as loaded by Userz"',
  // A fresh repository keeps its one ref loose: the commit rev-parse would print.
  'read -r commit < /work/.git/refs/heads/main',
  'echo "$commit"',
].join('\n');

/**
 * Ends the manifest in the loader's output, a line of its own after a blank one (the
 * manifest may be empty): no manifest line can be it, and JSON lines hold no raw newline.
 */
const WALKED_MARK = '\n{"walked":1}\n';

// Node drives the load so that it can be started ahead of the archive (a pooled sandbox),
// and starts both shells at once. Its stdin is one header line, JSON {strip, read} (the strip
// count; path → byte cap of the files to read ahead, tree-walk.ts), then the tar stream,
// handed to the unpacking shell after the strip count. Once that succeeded: the tree walk
// prints the manifest and WALKED_MARK in this process, then the committing shell goes.
const LOADER_SOURCE = String.raw`
let READ_AHEAD;
{
  const { spawn } = require('child_process');
  let head = Buffer.alloc(0);
  let started = false;
  const unpack = spawn('sh', ['-c', process.argv[2], 'sh'], { stdio: ['pipe', 'inherit', 'inherit'] });
  const commit = spawn('sh', ['-c', process.argv[3], 'sh'], { stdio: ['pipe', 'inherit', 'inherit'] });
  unpack.stdin.on('error', () => {}); // tar stopped reading: its exit code tells
  commit.stdin.on('error', () => {});
  unpack.on('exit', (code) => {
    if (code !== 0) process.exit(code === null ? 1 : code);
    if (!started) process.exit(2);
    walkTree();
    process.stdout.write(${JSON.stringify(WALKED_MARK)}); // a pipe: written before the commit's line
    process.stdin.destroy();
    commit.stdin.end('go\n');
  });
  commit.on('exit', (code) => process.exit(code === null ? 1 : code));
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0) {
      if (head.length > 65536) process.exit(2);
      return;
    }
    process.stdin.off('data', onData);
    process.stdin.pause();
    started = true;
    let header;
    try {
      header = JSON.parse(head.subarray(0, nl).toString('utf8'));
    } catch (e) {
      process.exit(2);
    }
    const strip = header && header.strip;
    if (!Number.isInteger(strip) || strip < 0 || strip > 16) process.exit(2);
    READ_AHEAD = new Map(Object.entries(header.read || {}).filter(([, cap]) => Number.isInteger(cap) && cap >= 0));
    unpack.stdin.write(strip + '\n');
    unpack.stdin.write(head.subarray(nl + 1));
    process.stdin.pipe(unpack.stdin);
  };
  process.stdin.on('data', onData);
  process.stdin.on('end', () => {
    if (!started) process.exit(2);
  });
}
function walkTree() {
${TREE_WALK_SOURCE}
}
`;

const LOADER_ARGV: readonly string[] = ['node', '-e', LOADER_SOURCE, 'manifest', UNPACK_SHELL, COMMIT_SHELL];

async function* withHeader(header: { strip: number; read: Record<string, number> }, tar: Readable): AsyncGenerator<Buffer> {
  yield Buffer.from(`${JSON.stringify(header)}\n`);
  for await (const chunk of tar) yield chunk as Buffer;
}

const sameArgv = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Waits for a pre-started runner's ready line on stderr, then leaves stderr paused for its user. */
function untilReady(proc: SandboxProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let settled = false;
    const done = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.stderr.off('data', onData);
      proc.stderr.pause();
      if (e) reject(e);
      else resolve();
    };
    const notReady = (why: string) => new UserzError('sandbox_unavailable', `The pre-started runner ${why}`, { retryable: true });
    const timer = setTimeout(() => done(notReady('did not get ready in time')), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(RUNNER_READY_LINE)) done();
      else if (seen.length > 64 * 1024) done(notReady('wrote to stderr instead of getting ready'));
    };
    proc.stderr.on('data', onData);
    proc.wait().then(
      () => done(notReady('exited before its task')),
      (e: unknown) => done(e instanceof Error ? e : notReady('failed')),
    );
  });
}

function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

export class DockerSandbox implements Sandbox {
  private runIdValue: string;
  private wallClock?: NodeJS.Timeout;
  private destroying?: Promise<void>;
  /** Why the sandbox went away under its user (wall clock, OOM…); reported instead of a stream error. */
  private lost?: UserzError;
  private base?: { manifest: BaseManifest; commit: string; sourceCommit?: string };
  /** Started ahead by prestart() (pool members only), each handed out once. */
  private preloader?: StartedExec;
  private prerunner?: { argv: readonly string[]; exec: StartedExec; proc: SandboxProcess };
  /** The load's base commit being made (loadRepository); every exec, spawn and read waits for it. */
  private committing?: Promise<string>;
  /** Open exec streams, ended by hand when the sandbox goes (runsc leaves them hanging). */
  private readonly streams = new Set<Duplex>();
  private readonly hooks: ExecHooks = {
    track: (socket) => {
      this.streams.add(socket);
      socket.once('close', () => this.streams.delete(socket));
    },
    lost: () => this.lost ?? (this.destroying ? new UserzError('sandbox_destroyed', 'The sandbox was destroyed') : undefined),
  };

  private constructor(
    private readonly config: SandboxConfig,
    readonly sandboxId: string,
    private readonly container: Docker.Container,
    private readonly workspace: Workspace,
    private readonly onGone: (sandboxId: string) => void,
  ) {
    this.runIdValue = '';
  }

  get runId(): string {
    return this.runIdValue;
  }

  get egressSlot(): EgressSlot {
    return { hostSocket: join(this.workspace.egressDir, EGRESS_SOCKET_NAME), sandboxSocket: `${EGRESS_PATH}/${EGRESS_SOCKET_NAME}` };
  }

  /** Creates and starts a pristine sandbox. `runId` empty: a pool member not yet assigned. */
  static async create(
    config: SandboxConfig,
    runId: string,
    hooks: { onCreating(sandboxId: string): void; onCreated(sandbox: DockerSandbox): void; onGone(sandboxId: string): void },
  ): Promise<DockerSandbox> {
    const sandboxId = randomBytes(8).toString('hex');
    // Held from the first file on, so this process's reaper never races its own creation.
    hooks.onCreating(sandboxId);
    const createdAtMs = Date.now();
    const workspace = workspacePaths(config.workspaceRoot, sandboxId);
    // The container only needs the mount point's path until it starts: make both at once.
    const [made, created] = await Promise.allSettled([
      createWorkspace(config.workspaceRoot, sandboxId, config.limits.workspaceBytes),
      config.docker.createContainer(
        buildContainerSpec(config, { sandboxId, runId, createdAtMs, mountPoint: workspace.mountPoint, egressDir: workspace.egressDir }),
      ),
    ]);
    const container = created.status === 'fulfilled' ? created.value : undefined;
    try {
      if (made.status === 'rejected') throw made.reason;
      if (created.status === 'rejected') throw created.reason;
      const sandbox = new DockerSandbox(config, sandboxId, container!, workspace, hooks.onGone);
      hooks.onCreated(sandbox);
      try {
        await container!.start();
      } catch (e) {
        await sandbox.destroy();
        throw e;
      }
      sandbox.watch();
      return sandbox;
    } catch (e) {
      if (container) await container.remove({ force: true }).catch(() => undefined);
      await removeWorkspace(workspace).catch(() => undefined);
      hooks.onGone(sandboxId);
      throw new UserzError('sandbox_unavailable', 'Could not start a sandbox', { retryable: true, cause: e });
    }
  }

  /** Notices the container stopping on its own (OOM, pids limit) and ends the execs left hanging. */
  private watch(): void {
    this.container.wait({ condition: 'not-running' }).then(
      (res: { StatusCode?: number }) => {
        if (this.destroying) return;
        this.lost ??= new UserzError('sandbox_lost', 'The sandbox stopped (out of memory or a resource limit)', {
          details: { exitCode: res.StatusCode },
        });
        this.config.log.warn({ runId: this.runId, sandboxId: this.sandboxId, exitCode: res.StatusCode }, 'Sandbox stopped on its own');
        this.endStreams();
      },
      () => undefined, // Removed before it stopped: destroy() is already in charge.
    );
  }

  private endStreams(): void {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
  }

  /**
   * For a pool member: starts the repository loader and the runner ahead, each waiting on
   * its stdin, so the run that takes this sandbox pays no Node start-up for either. Neither
   * is sent anything before the run's own input (the loader its archive, the runner its
   * task, whose protocol version it still checks), and the environment they get is
   * SANDBOX_ENV plus the readiness flag: nothing secret. Resolves once the runner is ready.
   */
  async prestart(runnerArgv: readonly string[] | null, timeoutMs: number): Promise<void> {
    const { docker } = this.config;
    const loader = await startExec(docker, this.container, [...LOADER_ARGV], true);
    this.hooks.track(loader.socket);
    this.preloader = loader;
    if (!runnerArgv) return;
    const runner = await startExec(docker, this.container, [...runnerArgv], true, [`${RUNNER_READY_ENV}=1`]);
    const proc = attachProcess(docker, Promise.resolve(runner), this.hooks);
    this.prerunner = { argv: [...runnerArgv], exec: runner, proc };
    await untilReady(proc, timeoutMs);
  }

  /** Gives the sandbox to a run and starts its wall clock. */
  async assign(runId: string, opts: { rename: boolean }): Promise<void> {
    const acquiredAtMs = Date.now();
    if (opts.rename) {
      const name = containerName(this.sandboxId, { runId, acquiredAtMs });
      // A retried rename whose first try landed is told the name is already this one: done.
      await retryTransient(
        () => this.container.rename({ name }),
        (e) => /same name as its current name/.test(String((e as { json?: { message?: string } }).json?.message)),
      );
    }
    this.runIdValue = runId;
    this.wallClock = setTimeout(() => this.expire(), this.config.limits.wallClockMs);
    this.wallClock.unref();
  }

  private expire(): void {
    this.lost ??= new UserzError('sandbox_timeout', 'The sandbox ran past its wall clock and was killed', {
      details: { wallClockMs: this.config.limits.wallClockMs },
    });
    this.config.log.warn({ runId: this.runId, sandboxId: this.sandboxId }, 'Sandbox wall clock reached, killing it');
    void this.destroy();
  }

  /** True while the container and the processes started ahead run, and nobody has destroyed it. */
  async isAlive(): Promise<boolean> {
    if (this.destroying || this.lost) return false;
    try {
      // The container and the processes started ahead of the run, asked at once: a pooled
      // acquire waits for one Docker round trip, not three in a row.
      const started = [this.preloader, this.prerunner?.exec].filter((s) => s !== undefined);
      const running = await Promise.all([
        this.container.inspect().then((c) => c.State.Running),
        ...started.map((s) => s.exec.inspect().then((e) => e.Running)),
      ]);
      return running.every(Boolean);
    } catch {
      return false;
    }
  }

  /** The error to report when a command failed because the sandbox itself is gone. */
  private async lostError(): Promise<UserzError | undefined> {
    if (this.lost) return this.lost;
    if (this.destroying) return new UserzError('sandbox_destroyed', 'The sandbox was destroyed');
    try {
      const { State } = await this.container.inspect();
      if (State.Running) return undefined;
      this.lost = new UserzError('sandbox_lost', 'The sandbox stopped (out of memory or a resource limit)', {
        details: { exitCode: State.ExitCode, oomKilled: State.OOMKilled },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.lost = new UserzError('sandbox_lost', 'The sandbox container is gone');
    }
    return this.lost;
  }

  private usable(): void {
    if (this.lost) throw this.lost;
    if (this.destroying) throw new UserzError('sandbox_destroyed', 'The sandbox was destroyed');
  }

  async exec(argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    this.usable();
    await this.afterLoad();
    this.usable();
    return this.settle(() => execInContainer(this.config.docker, this.container, argv, opts ?? {}, this.hooks));
  }

  private async settle(run: () => Promise<ExecResult>): Promise<ExecResult> {
    let result: ExecResult;
    try {
      result = await run();
    } catch (e) {
      if (e instanceof UserzError) throw e;
      throw (await this.lostError()) ?? e;
    }
    // A command cut short because the whole sandbox died reports that, not its exit code.
    if (result.exitCode !== 0) {
      const lost = await this.lostError();
      if (lost) throw lost;
    }
    return result;
  }

  spawn(argv: string[]): SandboxProcess {
    this.usable();
    const pre = this.prerunner;
    if (pre && sameArgv(pre.argv, argv)) {
      this.prerunner = undefined;
      return pre.proc;
    }
    return spawnInContainer(this.config.docker, this.container, argv, this.hooks, this.committing);
  }

  async loadRepository(tar: Readable, opts: LoadRepositoryOptions = {}): Promise<LoadedRepository> {
    const strip = opts.stripComponents ?? 1;
    if (!Number.isInteger(strip) || strip < 0 || strip > 16) {
      throw new UserzError('invalid_argument', 'stripComponents must be a small non-negative integer');
    }
    if (this.base) throw new UserzError('sandbox_already_loaded', 'A repository is already loaded in this sandbox');
    const readAhead = opts.readAhead ?? {};
    if (!Object.values(readAhead).every((cap) => Number.isInteger(cap) && cap >= 0 && cap <= 16 * MiB)) {
      throw new UserzError('invalid_argument', 'readAhead caps must be whole numbers of bytes up to 16 MiB');
    }
    // The manifest is complete once WALKED_MARK has arrived; `recent` keeps enough of the
    // output's end to find it across a chunk boundary.
    const chunks: Buffer[] = [];
    let recent = '';
    let sawWalked = false;
    let onWalked!: () => void;
    const walked = new Promise<void>((resolve) => (onWalked = resolve));
    const onStdout = (chunk: Buffer) => {
      chunks.push(chunk);
      if (sawWalked) return;
      recent += chunk.toString('latin1');
      if (recent.includes(WALKED_MARK)) {
        sawWalked = true;
        onWalked();
      }
      recent = recent.slice(1 - WALKED_MARK.length);
    };
    const input = { stdin: Readable.from(withHeader({ strip, read: readAhead }, tar)), maxOutputBytes: 256 * MiB, onStdout };
    const pre = this.preloader;
    this.preloader = undefined;
    this.usable();
    const running = pre
      ? this.settle(() => completeExec(this.config.docker, pre, input, this.hooks))
      : this.settle(() => execInContainer(this.config.docker, this.container, [...LOADER_ARGV], input, this.hooks));
    const failed = (res: ExecResult) =>
      new UserzError('sandbox_load_failed', 'Could not unpack the repository into the sandbox', {
        details: { exitCode: res.exitCode, stderr: res.stderr.toString('utf8').slice(-2000) },
      });
    const early = await Promise.race([walked.then(() => null), running]);
    if (early && !sawWalked) {
      // Ended before the manifest was complete: the unpack failed (or the manifest was cut).
      throw early.exitCode !== 0 ? failed(early) : new UserzError('sandbox_load_failed', 'The sandbox did not report the loaded tree');
    }
    const all = Buffer.concat(chunks);
    const files = new Map<string, Buffer>();
    const manifest = parseManifest(all.subarray(0, all.indexOf(WALKED_MARK)).toString('utf8'), files);
    const base = { manifest, commit: '', sourceCommit: opts.sourceCommit };
    this.base = base;
    this.config.log.info({ runId: this.runId, files: base.manifest.size }, 'Repository loaded into sandbox');
    const baseCommit = running.then((res) => {
      if (res.exitCode !== 0) throw failed(res);
      const commit = res.stdout
        .subarray(res.stdout.indexOf(WALKED_MARK) + WALKED_MARK.length)
        .toString('utf8')
        .trim();
      if (!/^[0-9a-f]{40}$/.test(commit)) throw new UserzError('sandbox_load_failed', 'The sandbox did not report a base commit');
      base.commit = commit;
      return commit;
    });
    // Awaited by every later use of the sandbox (afterLoad); a caller need not await it.
    baseCommit.catch(() => undefined);
    this.committing = baseCommit;
    return { baseCommit, files };
  }

  /** Resolves once the load's base commit is made; rejects with its failure. */
  private async afterLoad(): Promise<void> {
    await this.committing;
  }

  async readChangeSet(caps?: Partial<ChangeSetCaps>): Promise<ChangeSet> {
    if (!this.base) throw new UserzError('sandbox_no_repository', 'No repository was loaded in this sandbox');
    await this.afterLoad();
    const limits: ChangeSetCaps = { ...this.config.changeSetCaps, ...caps };
    // The walk counts a rename as two paths; the host counts it once and applies the exact cap.
    const walkFiles = limits.maxFiles * 2;
    let res: ExecResult;
    try {
      // The sweep first: no process of the agent's may still write while the tree is read.
      // No timeoutMs here: its `timeout` wrapper would be a uid 1000 process, swept too.
      res = await this.exec(['node', '-e', `${PROCESS_SWEEP_SOURCE}\n${TREE_WALK_SOURCE}`, 'changed', String(walkFiles), String(limits.maxBytes)], {
        stdin: serializeManifest(this.base.manifest),
        maxOutputBytes: Math.ceil(limits.maxBytes * 1.4) + walkFiles * 8192 + MiB,
      });
    } catch (e) {
      if (e instanceof UserzError && e.code === 'sandbox_output_too_large') {
        throw new UserzError('changeset_too_large', 'The change set is larger than allowed', { cause: e });
      }
      throw e;
    }
    if (res.exitCode === SWEEP_EXIT_CODE) {
      throw new UserzError('sandbox_processes_survived', 'Processes of the agent outlived its turn and could not be ended', {
        details: { stderr: res.stderr.toString('utf8').slice(-2000) },
      });
    }
    if (res.exitCode !== 0 && res.exitCode !== 3) {
      throw new UserzError('sandbox_read_failed', 'Could not read the change set from the sandbox', {
        details: { exitCode: res.exitCode, stderr: res.stderr.toString('utf8').slice(-2000) },
      });
    }
    return buildChangeSet(this.base.sourceCommit ?? this.base.commit, this.base.manifest, res.stdout.toString('utf8'), limits);
  }

  async ignoreChangesDuring<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.base) throw new UserzError('sandbox_no_repository', 'No repository was loaded in this sandbox');
    const before = await this.walkManifest();
    const result = await fn();
    const after = await this.walkManifest();
    const base = this.base.manifest;
    for (const [path, entry] of after) {
      const was = before.get(path);
      if (!was || was.m !== entry.m || was.h !== entry.h) base.set(path, entry);
    }
    for (const path of before.keys()) if (!after.has(path)) base.delete(path);
    return result;
  }

  /** The whole tree's manifest as the tree walk sees it now. */
  private async walkManifest(): Promise<BaseManifest> {
    const res = await this.exec(['node', '-e', TREE_WALK_SOURCE, 'manifest'], { maxOutputBytes: 256 * MiB });
    if (res.exitCode !== 0) {
      throw new UserzError('sandbox_read_failed', 'Could not read the workspace tree', {
        details: { exitCode: res.exitCode, stderr: res.stderr.toString('utf8').slice(-2000) },
      });
    }
    return parseManifest(res.stdout.toString('utf8'));
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    clearTimeout(this.wallClock);
    this.endStreams();
    try {
      await this.container.remove({ force: true, v: true });
    } catch (e) {
      if (!isNotFound(e)) {
        this.config.log.error({ sandboxId: this.sandboxId, err: errorMessage(e) }, 'Sandbox container removal failed; the reaper will retry');
      }
    }
    await removeWorkspace(this.workspace).catch((e: unknown) =>
      this.config.log.error({ sandboxId: this.sandboxId, err: errorMessage(e) }, 'Sandbox workspace removal failed; the reaper will retry'),
    );
    this.onGone(this.sandboxId);
    this.config.log.info({ runId: this.runId, sandboxId: this.sandboxId }, 'Sandbox destroyed');
  }
}

/**
 * A Docker API call that failed on the socket itself (EPIPE/ECONNRESET: dockerd closed an
 * idle connection under load) is safe to repeat when the call is idempotent, as rename is.
 */
// Six tries over about 1.5 s: a pooled sandbox's rename has twice failed with EPIPE three
// times within 150 ms while several sandbox test files ran at once (cause not found).
// A burst of that length is outlasted.
async function retryTransient(call: () => Promise<unknown>, alreadyDone: (e: unknown) => boolean, attempts = 6): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await call();
      return;
    } catch (e) {
      if (i > 1 && alreadyDone(e)) return;
      const code = (e as NodeJS.ErrnoException).code;
      if (i >= attempts || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw e;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}
