/**
 * The one place that says how a sandbox container is configured. Every flag here is a
 * security property of DESIGN.md and has a test in test/sandbox/.
 */
import type Docker from 'dockerode';
import type { SandboxConfig } from './limits.js';

export const LABEL = {
  role: 'userz.role',
  runId: 'userz.run-id',
  createdAt: 'userz.created-at',
  sandboxId: 'userz.sandbox-id',
  instance: 'userz.instance',
} as const;

export const SANDBOX_ROLE = 'sandbox';
/** Every process the host starts in the sandbox (the runner, checks, its own reads) runs as this user. */
export const SANDBOX_USER = '1000:1000';
/**
 * The container's own processes (tini and the idle `sleep`) run as another unprivileged
 * user: then a kill(-1) by uid 1000 reaches exactly what the agent could have started,
 * and nothing the agent starts can signal the sandbox's init (no CAP_KILL).
 */
export const SANDBOX_INIT_USER = '65534:65534';
export const WORKSPACE_PATH = '/work';
/** Where the sandbox sees its egress slot (workspace.ts): read-only, empty but while setup runs. */
export const EGRESS_PATH = '/run/userz-egress';
/** The proxy socket's name in the egress slot. */
export const EGRESS_SOCKET_NAME = 'proxy.sock';

/**
 * Everything the sandbox's processes see in their environment. Fixed values only: the host
 * environment (forge tokens, AI keys, USERZ_*) is never forwarded. No NODE_ENV: a
 * repository's `setup` such as `npm ci` must install its devDependencies, or the `check`
 * it sets up (`npm test` with jest, say) cannot run.
 */
export const SANDBOX_ENV: readonly string[] = ['HOME=/tmp', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'];

/**
 * `userz-<sandbox id>` at creation; a pooled sandbox is renamed when a run takes it,
 * `userz-<sandbox id>-r<acquired at, ms>-<run id>`, because labels cannot change and the
 * reaper must measure a pooled sandbox's wall clock from its acquisition.
 */
export function containerName(sandboxId: string, lease?: { runId: string; acquiredAtMs: number }): string {
  if (!lease) return `userz-${sandboxId}`;
  const runId = lease.runId.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 64);
  return `userz-${sandboxId}-r${lease.acquiredAtMs}-${runId}`;
}

/** The acquisition time encoded by containerName, if any. */
export function leaseStartOf(names: readonly string[]): number | undefined {
  for (const name of names) {
    const m = /^\/?userz-[0-9a-f]{16}-r(\d{13})-/.exec(name);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function buildContainerSpec(
  config: SandboxConfig,
  p: { sandboxId: string; runId: string; createdAtMs: number; mountPoint: string; egressDir: string },
): Docker.ContainerCreateOptions {
  const { limits } = config;
  return {
    name: containerName(p.sandboxId),
    Image: config.image,
    // The container only idles; the runner and every command arrive as execs. tini (Init)
    // reaps what the agent's processes leave behind.
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    User: SANDBOX_INIT_USER,
    WorkingDir: WORKSPACE_PATH,
    Env: [...SANDBOX_ENV],
    Hostname: 'sandbox',
    NetworkDisabled: true,
    Labels: {
      [LABEL.role]: SANDBOX_ROLE,
      [LABEL.runId]: p.runId,
      [LABEL.createdAt]: String(p.createdAtMs),
      [LABEL.sandboxId]: p.sandboxId,
      [LABEL.instance]: config.instance,
    },
    HostConfig: {
      Runtime: config.runtime,
      NetworkMode: 'none',
      Init: true,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: limits.pids,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpBytes},mode=1777` },
      // The run's own workspace is the only writable host path in the container; no Docker
      // socket. The egress slot is read-only and holds a socket only while setup runs: a
      // directory, because runsc cannot bind-mount a socket file itself, and connecting to
      // it needs runsc's --host-uds=open (scripts/install-sandbox.sh).
      Binds: [`${p.mountPoint}:${WORKSPACE_PATH}:rw`, `${p.egressDir}:${EGRESS_PATH}:ro`],
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}
