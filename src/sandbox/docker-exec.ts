/**
 * Commands inside a running container through Docker's exec API, with stdin streamed in
 * (half-closed at its end) and stdout/stderr demultiplexed.
 */
import type Docker from 'dockerode';
import { once } from 'node:events';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { UserzError } from '../errors.js';
import type { ExecOptions, ExecResult, SandboxProcess } from './interface.js';
import { WORKSPACE_PATH, SANDBOX_USER } from './container-spec.js';
import { attachExec } from './exec-attach.js';

const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

/** `timeout` (coreutils) kills the command's whole process group, which the exec API cannot. */
function withTimeout(argv: string[], timeoutMs: number | undefined): string[] {
  if (timeoutMs === undefined) return argv;
  const seconds = Math.max(0.001, timeoutMs / 1000).toFixed(3);
  return ['timeout', '-s', 'KILL', seconds, ...argv];
}

/** An exec started and attached, its stream still paused: a process waiting for its input. */
export interface StartedExec {
  exec: Docker.Exec;
  socket: Duplex;
}

/** `env`: fixed, non-secret additions to the container's environment (SANDBOX_ENV) for this command. */
export async function startExec(docker: Docker, container: Docker.Container, argv: string[], withStdin: boolean, env?: string[]): Promise<StartedExec> {
  const exec = await container.exec({
    Cmd: argv,
    ...(env ? { Env: env } : {}),
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    User: SANDBOX_USER,
    WorkingDir: WORKSPACE_PATH,
  });
  const socket = await attachExec(docker, exec.id);
  return { exec, socket };
}

/** The exit code once Docker has recorded it (the stream can end a moment before). */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new UserzError('sandbox_exec_failed', 'Sandbox command did not report an exit code', { retryable: true });
}

/**
 * Copies stdin into the exec, then half-closes it so the command sees EOF. Iterates rather
 * than pipe()s: archive streams may be streamx streams (tar-stream), whose pipe() does not
 * always cooperate with a net socket. A command that stops reading early is not an error.
 */
function feedStdin(stdin: Readable | Buffer | undefined, socket: Duplex): void {
  if (stdin === undefined) return;
  const source: AsyncIterable<Buffer> = Buffer.isBuffer(stdin) ? ([stdin] as unknown as AsyncIterable<Buffer>) : stdin;
  void (async () => {
    try {
      for await (const chunk of source) {
        if (socket.destroyed || socket.writableEnded) return;
        if (!socket.write(chunk)) await once(socket, 'drain');
      }
      socket.end();
    } catch (e) {
      socket.destroy(e as Error);
    }
  })();
}

const stoppedReading = (e: Error): boolean => ['EPIPE', 'ECONNRESET'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * How a sandbox keeps hold of its exec streams: under runsc, an exec whose sandbox died
 * (OOM, pids, kill) never ends its stream, so the sandbox ends them itself.
 */
export interface ExecHooks {
  track(socket: Duplex): void;
  /** Set once the sandbox is gone; reported instead of the exec's own outcome. */
  lost(): Error | undefined;
}

export async function execInContainer(
  docker: Docker,
  container: Docker.Container,
  argv: string[],
  opts: ExecOptions & Pick<CompleteOptions, 'onStdout'>,
  hooks: ExecHooks,
): Promise<ExecResult> {
  const started = Date.now();
  const env = opts.env && opts.env.length > 0 ? [...opts.env] : undefined;
  const exec = await startExec(docker, container, withTimeout(argv, opts.timeoutMs), opts.stdin !== undefined, env);
  hooks.track(exec.socket);
  const result = await completeExec(docker, exec, opts, hooks);
  const timedOut = opts.timeoutMs !== undefined && result.exitCode === 137 && Date.now() - started >= opts.timeoutMs;
  return { ...result, timedOut };
}

/** `onStdout`: also handed each chunk of stdout as it arrives (the loader's manifest, read before the exec ends). */
export type CompleteOptions = Omit<ExecOptions, 'timeoutMs'> & { onStdout?: (chunk: Buffer) => void };

/**
 * Feeds stdin to an exec already started (by execInContainer, or ahead of time for a
 * pooled sandbox, see docker-sandbox.ts) and collects its output and exit code.
 * The caller has tracked its socket.
 */
export async function completeExec(docker: Docker, { exec, socket }: StartedExec, opts: CompleteOptions, hooks: ExecHooks): Promise<ExecResult> {
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let total = 0;
  let overflow = false;
  const collect = (into: Buffer[]) =>
    new PassThrough().on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        overflow = true;
        socket.destroy();
        return;
      }
      into.push(chunk);
    });
  const stdout = collect(out);
  if (opts.onStdout) stdout.on('data', opts.onStdout);
  docker.modem.demuxStream(socket, stdout, collect(err));
  socket.resume();
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', (e) => (overflow || stoppedReading(e) ? resolve() : reject(e)));
  });
  feedStdin(opts.stdin, socket);
  await ended;
  const lost = hooks.lost();
  if (lost) throw lost;
  if (overflow) {
    throw new UserzError('sandbox_output_too_large', 'Sandbox command output exceeded its cap', { details: { maxOutputBytes: max } });
  }
  const exitCode = await exitCodeOf(exec);
  return { exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: false };
}

/**
 * Starts a long-lived process with its stdio attached. Returns at once; `wait()` reports
 * the exit code, or `onLost()`'s error when the sandbox went away under it.
 */
export function spawnInContainer(docker: Docker, container: Docker.Container, argv: string[], hooks: ExecHooks, after?: Promise<unknown>): SandboxProcess {
  return attachProcess(docker, after ? after.then(() => startExec(docker, container, argv, true)) : startExec(docker, container, argv, true), hooks);
}

/** The SandboxProcess of an exec being (or already) started with stdin attached. */
export function attachProcess(docker: Docker, starting: Promise<StartedExec>, hooks: ExecHooks): SandboxProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const exited = (async () => {
    try {
      const { exec, socket } = await starting;
      hooks.track(socket);
      docker.modem.demuxStream(socket, stdout, stderr);
      socket.resume();
      const ended = new Promise<void>((resolve, reject) => {
        socket.on('end', resolve);
        socket.on('close', resolve);
        socket.on('error', (e) => (stoppedReading(e) ? resolve() : reject(e)));
      });
      feedStdin(stdin, socket);
      await ended;
      const lost = hooks.lost();
      if (lost) throw lost;
      try {
        return await exitCodeOf(exec);
      } catch (e) {
        throw hooks.lost() ?? e;
      }
    } finally {
      // Also when the exec never started: readers of stdout must not wait forever.
      stdout.end();
      stderr.end();
    }
  })();
  // wait() may be called late; an early failure must not become an unhandled rejection.
  exited.catch(() => undefined);
  return { stdin, stdout, stderr, wait: () => exited };
}
