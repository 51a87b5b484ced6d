/**
 * The one path out a sandbox ever gets: for setup only. withSetupEgress starts the proxy
 * on the sandbox's egress slot and the forwarder inside, runs setup with the proxy
 * variables, and before it returns (or throws) removes the socket, ends every tunnel and
 * stops the forwarder, so the agent's first turn starts with no way out at all.
 */
import { UserzError } from '../../errors.js';
import type { Sandbox, SandboxProcess } from '../interface.js';
import { FORWARDER_READY, FORWARDER_SOURCE } from './forwarder.js';
import { startEgressProxy, type EgressLedgerEntry, type EgressProxyOptions } from './proxy.js';

export type SetupEgressOptions = Omit<EgressProxyOptions, 'socketPath'> & {
  /** How long the forwarder may take to start. Default 30 s (a Node start under gVisor). */
  readyTimeoutMs?: number;
};

export interface SetupEgressResult<T> {
  result: T;
  ledger: EgressLedgerEntry[];
}

/** The variables setup's commands get: every common spelling, all to the forwarder. */
export function proxyEnv(port: number): string[] {
  const url = `http://127.0.0.1:${port}`;
  return [`HTTPS_PROXY=${url}`, `https_proxy=${url}`, `HTTP_PROXY=${url}`, `http_proxy=${url}`, 'NO_PROXY=', 'no_proxy='];
}

function untilListening(proc: SandboxProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error('did not start in time')), timeoutMs);
    const done = (e: Error | undefined, port?: number) => {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      if (e) reject(new UserzError('sandbox_exec_failed', `The egress forwarder ${e.message}`, { retryable: true }));
      else resolve(port!);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = FORWARDER_READY.exec(seen);
      if (m) done(undefined, Number(m[1]));
      else if (seen.length > 1024) done(new Error('printed something unexpected'));
    };
    proc.stdout.on('data', onData);
    proc.stderr.resume();
    proc.wait().then(
      () => done(new Error('exited before listening')),
      (e: unknown) => done(e instanceof Error ? e : new Error('failed')),
    );
  });
}

async function stopForwarder(proc: SandboxProcess): Promise<void> {
  proc.stdin.end();
  // It exits at once on EOF; a sandbox gone under it is not setup's failure to report here.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([proc.wait().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 5_000)))]);
  clearTimeout(timer);
}

/**
 * Runs `fn` (setup) with egress to `allowHosts` only. `fn` gets the environment additions
 * for its commands (ExecOptions.env). With an empty allowlist nothing is started and `fn`
 * gets none: no proxy is the smallest path out.
 */
export async function withSetupEgress<T>(
  sandbox: Sandbox,
  opts: SetupEgressOptions,
  fn: (env: readonly string[]) => Promise<T>,
): Promise<SetupEgressResult<T>> {
  if (opts.allowHosts.length === 0) return { result: await fn([]), ledger: [] };
  const { hostSocket, sandboxSocket } = sandbox.egressSlot;
  const proxy = await startEgressProxy({ ...opts, socketPath: hostSocket });
  let forwarder: SandboxProcess | undefined;
  try {
    forwarder = sandbox.spawn(['node', '-e', FORWARDER_SOURCE, sandboxSocket]);
    const port = await untilListening(forwarder, opts.readyTimeoutMs ?? 30_000);
    const result = await fn(proxyEnv(port));
    return { result, ledger: await proxy.close() };
  } finally {
    await proxy.close();
    if (forwarder) await stopForwarder(forwarder);
  }
}
