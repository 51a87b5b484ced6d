/**
 * The run stage inside one sandbox, shared by the run job (run.ts) and `userz try`:
 * load the base tree, read `.userz.yml` and the maintainer's instructions from it (before
 * anything else can change it), run setup, run the agent (offering run_checks and
 * declare_reproducing_test when the repository has checks), read the change set out, run
 * the checks once more and the reproducing test before and after. The caller acquires and
 * destroys the sandbox.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { PriceTable } from '../billing/index.js';
import { serveRunner, type HostToolHandler, type RunBudget, type RunnerOutcome } from '../broker/index.js';
import { errorMessage } from '../errors.js';
import { DEFAULT_INSTRUCTIONS_PATH, parsePolicy, POLICY_PATH, runConfigOf, type ChangeSet, type RunConfig } from '../guardrail/index.js';
import type { ModelClient } from '../model/index.js';
import { TOOL_NAMES, type ToolName } from '../runner/index.js';
import type { LoadedRepository, Sandbox } from '../sandbox/index.js';
import type { ChecksStatus, CommandResult, Reproduction } from '../store/index.js';
import { removeTagNameVariants } from '../triage/index.js';
import { checksForAgent, runCommands, type CommandsOutcome } from './checks.js';
import { looksLikeTestPath, reproduce } from './reproduce.js';

/** Maintainer guidance beyond this is cut (and the cut is said). */
export const MAX_INSTRUCTIONS_BYTES = 16 * 1024;
/** run_checks calls the host answers in one run; later ones are refused (each may take minutes). */
export const MAX_AGENT_CHECK_REQUESTS = 10;

/**
 * Gives setup its one path out, bound by the caller to its run: the egress proxy with the
 * operator's lists intersected with `allow` (the base commit's `egress.allow`), around `fn`,
 * which runs setup with the environment additions it is given (proxy variables). The run
 * job binds PipelineDeps' setup egress (pipeline/egress.ts, issue 18's egress part); `userz
 * try` binds sandbox/egress withSetupEgress and prints the ledger. Absent: no network at all.
 */
export type StageEgress = <T>(allow: readonly string[], fn: (env: readonly string[]) => Promise<T>) => Promise<T>;

export interface StageInput {
  sandbox: Sandbox;
  archive: { tar: Readable; baseCommit: string };
  agent: ModelClient;
  budget: RunBudget;
  /** The org's price table (billing/prices.ts with its overrides), so the run budget charges what the ledger does. */
  prices?: PriceTable;
  task: { system: string; prompt: string };
  runnerCommand: string[];
  egress?: StageEgress;
  /** Called once the agent has finished with a change, before the final checks (a follow-up's progress comment says `checks`). */
  onChecks?: () => Promise<void>;
  log: Logger;
}

export interface StageChecks {
  status: ChecksStatus;
  requirePassing: boolean;
  setup: CommandResult[];
  commands: CommandResult[];
  agentRequests: number;
  reproduced: boolean;
  reproduction: Reproduction | null;
  setupMs: number;
  checksMs: number;
}

export interface StageResult {
  outcome: RunnerOutcome | null;
  changeSet: ChangeSet | null;
  /** `.userz.yml` as the base tree has it (null: none), and whether it parsed. */
  policyText: string | null;
  config: RunConfig;
  checks: StageChecks;
  /** Set when setup did not pass: the agent was not started. */
  setupFailed: boolean;
  /** Milliseconds the agent's own run took (runner start to its last answer). */
  agentMs: number;
}

// Prints a regular file's first N bytes, or nothing (exit 1) for a missing file, a symlink
// or anything else: the tree is the agent's to be, but nothing of it has run yet.
const READ_FILE_SHELL = 'if [ -f "$2" ] && [ ! -L "$2" ]; then head -c "$1" -- "$2"; else exit 1; fi';

const POLICY_MAX_BYTES = 64 * 1024;

/**
 * Read with the load itself, each for the price of no exec (~150 ms under gVisor): the
 * policy file and the default instructions. Instructions the policy puts elsewhere are
 * read by an exec of their own (readBaseFile).
 */
const READ_AHEAD: Readonly<Record<string, number>> = { [POLICY_PATH]: POLICY_MAX_BYTES, [DEFAULT_INSTRUCTIONS_PATH]: MAX_INSTRUCTIONS_BYTES };

type BaseFile = { text: string; truncated: boolean } | null;

const cut = (bytes: Buffer, maxBytes: number): BaseFile => ({ text: bytes.subarray(0, maxBytes).toString('utf8'), truncated: bytes.length > maxBytes });

async function readBaseFile(sandbox: Sandbox, path: string, maxBytes: number): Promise<BaseFile> {
  const res = await sandbox.exec(['sh', '-c', READ_FILE_SHELL, 'sh', String(maxBytes + 1), path], { timeoutMs: 60_000, maxOutputBytes: maxBytes + 1024 });
  return res.exitCode === 0 ? cut(res.stdout, maxBytes) : null;
}

/** A file of the base tree: from what the load read ahead when it was asked for, else by an exec. */
async function baseFile(sandbox: Sandbox, loaded: LoadedRepository, path: string, maxBytes: number): Promise<BaseFile> {
  if (!Object.hasOwn(READ_AHEAD, path) || READ_AHEAD[path]! < maxBytes) return readBaseFile(sandbox, path, maxBytes);
  const bytes = loaded.files.get(path);
  return bytes ? cut(bytes, maxBytes) : null;
}

/** The maintainer's guidance as it enters the system prompt: plain text, no controls, no wrapper tag name. */
export function instructionsBlock(path: string, text: string, truncated: boolean): string {
  const clean = removeTagNameVariants(text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')).trim();
  return [
    `Repository guidance from the maintainers (${path} at the base commit). Follow it where it does not conflict with the rules above:`,
    clean,
    ...(truncated ? [`[guidance cut at ${MAX_INSTRUCTIONS_BYTES} bytes]`] : []),
  ].join('\n');
}

export const REPRODUCE_FIRST = [
  'This repository has checks that the host runs for you: the run_checks tool runs them on your current tree (you cannot choose the commands).',
  'Before you fix anything, add a test that reproduces the reported problem, name its file with declare_reproducing_test, and call run_checks to see it fail.',
  'Then make the fix and call run_checks again until the checks pass. After you finish, the host runs the checks once more,',
  'and runs your test on the original tree (it must fail) and on your changed tree (it must pass).',
].join('\n');

function emptyChecks(config: RunConfig): StageChecks {
  return {
    status: 'not_configured',
    requirePassing: config.requirePassingChecks,
    setup: [],
    commands: [],
    agentRequests: 0,
    reproduced: false,
    reproduction: null,
    setupMs: 0,
    checksMs: 0,
  };
}

async function readRunConfig(sandbox: Sandbox, loaded: LoadedRepository, log: Logger): Promise<{ policyText: string | null; config: RunConfig }> {
  const policy = await baseFile(sandbox, loaded, POLICY_PATH, POLICY_MAX_BYTES);
  if (!policy) return { policyText: null, config: runConfigOf(undefined) };
  try {
    return { policyText: policy.text, config: runConfigOf(parsePolicy(policy.text)) };
  } catch (e) {
    // The guardrail refuses the change for it later (policy_invalid); nothing of it runs here.
    log.warn({ err: errorMessage(e) }, 'Repository policy does not parse; no setup or checks');
    return { policyText: policy.text, config: runConfigOf(undefined) };
  }
}

/**
 * The agent, with each answer held back until the sandbox has made its base commit: the
 * model works on the first turn while the commit is made, and the runner runs no tool (the
 * only way anything touches the tree) before the base it is compared with exists.
 */
function afterBaseCommit(agent: ModelClient, baseCommit: Promise<string>): ModelClient {
  return {
    provider: agent.provider,
    model: agent.model,
    complete: async (request, opts) => (await Promise.all([agent.complete(request, opts), baseCommit]))[0],
  };
}

export async function runStage(input: StageInput): Promise<StageResult> {
  const { sandbox, log } = input;
  const loaded = await sandbox.loadRepository(input.archive.tar, { stripComponents: 1, sourceCommit: input.archive.baseCommit, readAhead: READ_AHEAD });
  const { policyText, config } = await readRunConfig(sandbox, loaded, log);
  const instructionsPath = config.instructions ?? DEFAULT_INSTRUCTIONS_PATH;
  const instructions = await baseFile(sandbox, loaded, instructionsPath, MAX_INSTRUCTIONS_BYTES);
  const checks = emptyChecks(config);
  const hasChecks = config.check.length > 0;

  if (config.setup.length > 0) {
    const runSetup = (env: readonly string[]) => sandbox.ignoreChangesDuring(() => runCommands(sandbox, config.setup, { env }));
    const result = input.egress ? await input.egress(config.egressAllow, runSetup) : await runSetup([]);
    checks.setup = result.commands;
    checks.setupMs = result.ms;
    if (result.status !== 'passed') {
      log.info({ status: result.status }, 'Setup did not pass; the agent is not started');
      return { outcome: null, changeSet: null, policyText, config, checks: { ...checks, status: 'errored' }, setupFailed: true, agentMs: 0 };
    }
  }

  let declaredTest: string | undefined;
  const hostTools: HostToolHandler = async (name, args) => {
    if (name === 'declare_reproducing_test') {
      const path = String(args.path);
      if (!looksLikeTestPath(path))
        return { ok: false, output: 'not a test file path: use a test/, tests/, spec/ or __tests__/ folder, or a name such as x.test.js' };
      declaredTest = path;
      return { ok: true, output: `noted: ${path} is the reproducing test; the host runs it on the original tree and on your changed tree after you finish` };
    }
    if (checks.agentRequests >= MAX_AGENT_CHECK_REQUESTS)
      return { ok: false, output: `run_checks is answered at most ${MAX_AGENT_CHECK_REQUESTS} times per run` };
    checks.agentRequests += 1;
    // What the checks write while they run (caches, build output) is not the agent's change.
    const outcome = await sandbox.ignoreChangesDuring(() => runCommands(sandbox, config.check));
    checks.checksMs += outcome.ms;
    return { ok: true, output: checksForAgent(outcome) };
  };

  const system = [
    input.task.system,
    ...(hasChecks ? [REPRODUCE_FIRST] : []),
    ...(instructions ? [instructionsBlock(instructionsPath, instructions.text, instructions.truncated)] : []),
  ].join('\n\n');
  const tools: ToolName[] = hasChecks ? [...TOOL_NAMES, 'run_checks', 'declare_reproducing_test'] : [...TOOL_NAMES];
  const agentStarted = performance.now();
  const proc = sandbox.spawn(input.runnerCommand);
  proc.stderr.resume(); // the runner's stderr is not a channel; drain it
  const outcome = await serveRunner({
    fromRunner: proc.stdout,
    toRunner: proc.stdin,
    client: afterBaseCommit(input.agent, loaded.baseCommit),
    task: { system, prompt: input.task.prompt, tools },
    budget: input.budget,
    prices: input.prices,
    hostTools,
  });
  const exitCode = await proc.wait().catch((e: unknown) => {
    log.warn({ err: errorMessage(e) }, 'Runner did not exit cleanly');
    return -1;
  });
  await loaded.baseCommit; // failed: the run fails with sandbox_load_failed, whatever the agent did
  const agentMs = performance.now() - agentStarted - checks.checksMs;
  log.info({ outcome: outcome.kind, exitCode }, 'Runner ended');
  if (outcome.kind !== 'completed') return { outcome, changeSet: null, policyText, config, checks, setupFailed: false, agentMs };

  const changeSet = await sandbox.readChangeSet();
  if (hasChecks && changeSet.entries.length > 0) {
    await input.onChecks?.();
    const final: CommandsOutcome = await runCommands(sandbox, config.check);
    checks.status = final.status;
    checks.commands = final.commands;
    checks.checksMs += final.ms;
    if (declaredTest) {
      const started = performance.now();
      const r = await reproduce(sandbox, changeSet, declaredTest, config, final);
      checks.reproduced = r.reproduced;
      checks.reproduction = r.reproduction;
      checks.checksMs += performance.now() - started;
    }
  }
  return { outcome, changeSet, policyText, config, checks, setupFailed: false, agentMs };
}
