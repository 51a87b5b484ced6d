/** The sandbox module's public face: the SandboxDriver port, its Docker + runsc driver, operator commands. */
export type {
  ChangeSetCaps,
  ExecOptions,
  ExecResult,
  LoadRepositoryOptions,
  ReapResult,
  Sandbox,
  SandboxDriver,
  SandboxProcess,
} from './interface.js';
export {
  DEFAULT_CHANGESET_CAPS,
  DEFAULT_LIMITS,
  resolveSandboxConfig,
  type SandboxConfig,
  type SandboxConfigInput,
  type SandboxLimits,
} from './limits.js';
export { DockerRunscDriver } from './docker-runsc.js';
export { runSandboxBuild } from './build.js';
export { runDoctor, sandboxRun, type DoctorCheck, type SandboxRunRequest } from './operator.js';
