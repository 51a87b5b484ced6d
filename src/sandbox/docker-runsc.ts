/**
 * SandboxDriver on Docker with gVisor's runsc runtime (dockerode over the Unix socket).
 * Opening it reaps leftovers, schedules the reaper and fills the warm pool.
 */
import { mkdir } from 'node:fs/promises';
import { UserzError, errorMessage } from '../errors.js';
import { DockerSandbox } from './docker-sandbox.js';
import type { ReapResult, Sandbox, SandboxDriver } from './interface.js';
import { resolveSandboxConfig, type SandboxConfig, type SandboxConfigInput } from './limits.js';
import { WarmPool } from './pool.js';
import { reapSandboxes } from './reaper.js';

export class DockerRunscDriver implements SandboxDriver {
  /** Every sandbox this driver created and has not yet seen destroyed: pooled and running. */
  private readonly held = new Map<string, DockerSandbox>();
  /** Ids of sandboxes being created: their workspace may exist before their container. */
  private readonly creating = new Set<string>();
  private readonly pool: WarmPool<DockerSandbox>;
  private reapTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(readonly config: SandboxConfig) {
    this.pool = new WarmPool(config.poolSize, () => this.createWarm(), config.log);
  }

  static async open(input: SandboxConfigInput = {}): Promise<DockerRunscDriver> {
    const driver = new DockerRunscDriver(resolveSandboxConfig(input));
    await mkdir(driver.config.workspaceRoot, { recursive: true, mode: 0o700 });
    try {
      await driver.config.docker.ping();
    } catch (e) {
      throw new UserzError('sandbox_unavailable', 'The Docker engine does not answer', { retryable: true, cause: e });
    }
    await driver.reap();
    driver.reapTimer = setInterval(() => {
      driver.reap().catch((e: unknown) => driver.config.log.error({ err: errorMessage(e) }, 'Sandbox reaper failed'));
      void driver.pool.fill();
    }, driver.config.reapIntervalMs);
    driver.reapTimer.unref();
    void driver.pool.fill();
    return driver;
  }

  private create(runId: string): Promise<DockerSandbox> {
    return DockerSandbox.create(this.config, runId, {
      onCreating: (id) => this.creating.add(id),
      onCreated: (s) => {
        this.creating.delete(s.sandboxId);
        this.held.set(s.sandboxId, s);
      },
      onGone: (id) => {
        this.creating.delete(id);
        this.held.delete(id);
      },
    });
  }

  /**
   * A pool member: started, with its repository loader and runner already running and
   * waiting on stdin (DockerSandbox.prestart), so a run pays neither Node start under gVisor.
   * The workspace stays empty until the run streams its repository in.
   */
  private async createWarm(): Promise<DockerSandbox> {
    const sandbox = await this.create('');
    try {
      await sandbox.prestart(this.config.runnerCommand, this.config.prestartTimeoutMs);
    } catch (e) {
      await sandbox.destroy();
      throw e;
    }
    return sandbox;
  }

  async acquire(runId: string): Promise<Sandbox> {
    if (this.closed) throw new UserzError('sandbox_unavailable', 'The sandbox driver is closed', { retryable: true });
    const pooled = await this.pool.take();
    let sandbox: DockerSandbox;
    if (pooled) {
      sandbox = pooled;
      try {
        await sandbox.assign(runId, { rename: true });
      } catch (e) {
        await sandbox.destroy();
        throw new UserzError('sandbox_unavailable', 'Could not assign a pooled sandbox', { retryable: true, cause: e });
      }
    } else {
      sandbox = await this.create(runId);
      await sandbox.assign(runId, { rename: false });
    }
    this.config.log.info({ runId, sandboxId: sandbox.sandboxId, pooled: pooled !== undefined }, 'Sandbox acquired');
    void this.pool.fill();
    return sandbox;
  }

  /** Warm sandboxes ready to hand out now (metrics: userz_sandbox_pool_size). */
  get warmCount(): number {
    return this.pool.readyCount;
  }

  /** Resolves once the warm pool is full (or could not be filled): for start-up and benchmarks. */
  warmUp(): Promise<void> {
    return this.pool.fill();
  }

  get pooledCount(): number {
    return this.pool.readyCount;
  }

  reap(): Promise<ReapResult> {
    return reapSandboxes(this.config, new Set([...this.held.keys(), ...this.creating]));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reapTimer);
    await this.pool.close();
    await Promise.all([...this.held.values()].map((s) => s.destroy()));
  }
}
