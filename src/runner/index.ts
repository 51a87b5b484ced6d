/** Public face of the runner: the loop (tests, main.ts) and the protocol the broker speaks. */
export { runAgentLoop, type RunnerExit } from './loop.js';
export {
  HostMessage,
  MAX_LINE_BYTES,
  PROTOCOL_VERSION,
  RUNNER_READY_ENV,
  RUNNER_READY_LINE,
  RunnerMessage,
  TaskMessage,
  TOOL_NAMES,
  ToolName,
  type HostToolName,
} from './protocol.js';
export { LineReader, parseLine, writeLine } from './lines.js';
export { gitShellExports } from './git-config.js';
