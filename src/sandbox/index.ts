/**
 * The sandbox module's public face: the SandboxDriver port, its Docker + runsc driver and
 * the operator commands.
 *
 *   const driver = await DockerRunscDriver.open({ image, poolSize, workspaceRoot, limits, log });
 *   const sandbox = await driver.acquire(runId);           // pooled or cold; wall clock starts
 *   try {
 *     await sandbox.loadRepository(archive.tar, { sourceCommit: archive.baseCommit });
 *     const runner = sandbox.spawn([...RUNNER_COMMAND]);      // JSON lines on stdio; pre-started when pooled
 *     ...
 *     const changeSet = await sandbox.readChangeSet();       // computed by the host's walk
 *   } finally {
 *     await sandbox.destroy();
 *   }
 *   await driver.close();
 *
 * The host process needs root (it loop-mounts each workspace) and dockerd with the runsc
 * runtime (scripts/install-sandbox.sh); the image comes from scripts/build-sandbox-image.sh.
 */
export type { LoadedRepository, Sandbox, SandboxDriver, SandboxProcess } from './interface.js';
export { resolveAllowlist, withSetupEgress, type EgressLedgerEntry, type EgressLists, type SetupEgressOptions } from './egress/index.js';
export { RUNNER_COMMAND, type SandboxConfigInput, type SandboxLimits } from './limits.js';
export { DockerRunscDriver } from './docker-runsc.js';
export { runSandboxBuild } from './build.js';
export { runDoctor, sandboxRun } from './operator.js';
