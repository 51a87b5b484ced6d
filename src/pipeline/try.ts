/**
 * `userz try`: triage and the run stage against a local checkout, on this machine, with
 * the real sandbox, setup and checks, the real guardrail, and the configured model or a
 * scripted transcript (docs/try.md). Nothing is written to any forge or database: the
 * change comes back as a diff.
 *
 * The repository is never touched: a git checkout is cloned (its HEAD commit is what runs,
 * as a forge archive would be), a plain folder is copied and committed once, both into a
 * temporary directory that is removed at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile, mkdir, chmod, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_RUN_BUDGET, type RunBudget } from '../broker/index.js';
import { UserzError, errorMessage } from '../errors.js';
import { checkChangeSet, compileRules, loadDefaultRules, parsePolicy, type ChangeSet } from '../guardrail/index.js';
import { ScriptedModelClient, type ModelClient } from '../model/index.js';
import { resolveAllowlist, withSetupEgress, type EgressLedgerEntry, type EgressLists, type SandboxDriver } from '../sandbox/index.js';
import { buildAgentPrompt, explainReport, ReportContent } from '../triage/index.js';
import { DEFAULT_RUNNER_COMMAND } from './deps.js';
import { runStage, type StageChecks } from './run-stage.js';

const run = promisify(execFile);

const ScriptToolCall = z.object({ id: z.string().max(256).optional(), name: z.string().max(128), arguments: z.record(z.string(), z.unknown()).default({}) });
const ScriptTurn = z.strictObject({ content: z.string().optional(), toolCalls: z.array(ScriptToolCall).optional() });
/** The --script file (docs/try.md). */
export const TryScript = z.strictObject({
  classifier: z.strictObject({ label: z.string(), confidence: z.number().min(0).max(1), reason: z.string().max(300) }).optional(),
  agent: z.array(ScriptTurn).min(1).max(200),
});
export type TryScript = z.infer<typeof TryScript>;

export interface TryOptions {
  repoPath: string;
  reportFile: string;
  scriptFile?: string;
  /** The configured models, used when there is no script. */
  models?: { classifier: ModelClient; agent: ModelClient };
  sandbox: SandboxDriver;
  egressLists?: EgressLists;
  budget?: RunBudget;
  log?: Logger;
}

export interface TryResult {
  triage: { action: string; reason: string };
  outcome: { kind: string; code?: string } | null;
  setup: StageChecks['setup'];
  checks: { status: StageChecks['status']; requirePassing: boolean; commands: StageChecks['commands']; agentRequests: number };
  reproduced: boolean;
  reproduction: StageChecks['reproduction'];
  verdict: { allowed: boolean; violations: Array<{ path: string; rule: string; reason: string }>; policyError?: string };
  /** Whether a run would open a draft: the guardrail allowed it and require_passing_checks does not stop it. */
  wouldOpenDraft: boolean;
  diff: string;
  cost: { usd: number; inputTokens: number; outputTokens: number; turns: number };
  egress: Array<{ host: string; port: number; allowed: boolean; reason: string; bytesUp: number; bytesDown: number }>;
  timings: { setupMs: number; checksMs: number; agentMs: number };
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserzError('invalid_input', `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UserzError('invalid_input', `the ${what} ${path} is not valid JSON`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new UserzError(
      'invalid_input',
      `the ${what} does not fit: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** The script as model clients: the classifier answers benign unless the script says otherwise. */
export function scriptedModels(script: TryScript): { classifier: ModelClient; agent: ModelClient } {
  const classifier = script.classifier ?? { label: 'benign', confidence: 0.99, reason: 'Scripted run.' };
  let n = 0;
  const turns = script.agent.map((t) => ({
    content: t.content ?? '',
    toolCalls: (t.toolCalls ?? []).map((c) => ({ id: c.id ?? `call_${(n += 1)}`, name: c.name, arguments: c.arguments })),
  }));
  return { classifier: new ScriptedModelClient([{ content: JSON.stringify(classifier) }]), agent: new ScriptedModelClient(turns) };
}

const GIT_ID = ['-c', 'user.name=Userz try', '-c', 'user.email=try@users.invalid', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null'];

/** A private git copy of the repository: its HEAD for a checkout, its files committed once for a plain folder. */
async function privateCopy(repoPath: string): Promise<string> {
  const source = resolve(repoPath);
  const st = await stat(source).catch(() => null);
  if (!st?.isDirectory()) throw new UserzError('invalid_input', `--repo ${repoPath} is not a directory`);
  const dir = await mkdtemp(join(tmpdir(), 'userz-try-'));
  const copy = join(dir, 'repo');
  const isGit = await stat(join(source, '.git')).then(
    () => true,
    () => false,
  );
  if (isGit) {
    await run('git', ['clone', '-q', '--no-hardlinks', source, copy]);
  } else {
    await cp(source, copy, { recursive: true, verbatimSymlinks: true, filter: (p) => !p.split('/').includes('.git') });
    await run('git', ['init', '-q', '-b', 'main', copy]);
    await run('git', ['-C', copy, 'add', '-A']);
    await run('git', ['-C', copy, ...GIT_ID, 'commit', '-q', '--no-verify', '-m', 'userz try: the folder as given']);
  }
  return copy;
}

/** `git archive` of HEAD under one top folder, the shape a forge archive has. */
function archiveOf(copy: string): PassThrough {
  const child = spawn('git', ['-C', copy, 'archive', '--format=tar', '--prefix=repo/', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return child.stdout.pipe(new PassThrough());
}

/** The change set applied to the private copy, as `git diff` shows it against HEAD. */
async function diffOf(copy: string, changeSet: ChangeSet): Promise<string> {
  for (const e of changeSet.entries) {
    if (e.status === 'deleted' || e.status === 'renamed') await unlink(join(copy, e.status === 'renamed' ? e.oldPath! : e.path)).catch(() => undefined);
    if (e.status === 'deleted') continue;
    const target = join(copy, e.path);
    await mkdir(dirname(target), { recursive: true });
    await unlink(target).catch(() => undefined);
    if (e.mode === '120000') await symlink(e.content!.toString('utf8'), target);
    else {
      await writeFile(target, e.content ?? Buffer.alloc(0));
      await chmod(target, e.mode === '100755' ? 0o755 : 0o644);
    }
  }
  await run('git', ['-C', copy, 'add', '-A']);
  const { stdout } = await run('git', ['-C', copy, '-c', 'core.quotePath=false', 'diff', '--cached', '--no-color', '--no-ext-diff'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

function ledgerView(entries: readonly EgressLedgerEntry[]): TryResult['egress'] {
  return entries.map((e) => ({ host: e.host, port: e.port, allowed: e.allowed, reason: e.reason, bytesUp: e.bytesUp, bytesDown: e.bytesDown }));
}

export async function tryRun(opts: TryOptions): Promise<TryResult> {
  const log = opts.log ?? pino({ level: 'silent' });
  const report = parseWith(ReportContent, await readJson(opts.reportFile, 'report'), 'report');
  const models = opts.scriptFile ? scriptedModels(parseWith(TryScript, await readJson(opts.scriptFile, 'script'), 'script')) : opts.models;
  if (!models) throw new UserzError('no_model', 'No model provider is configured: set one, or pass --script FILE (docs/try.md)');

  const explained = await explainReport(report, { client: models.classifier });
  const base: Omit<TryResult, 'triage'> = {
    outcome: null,
    setup: [],
    checks: { status: 'not_configured', requirePassing: false, commands: [], agentRequests: 0 },
    reproduced: false,
    reproduction: null,
    verdict: { allowed: false, violations: [] },
    wouldOpenDraft: false,
    diff: '',
    cost: { usd: 0, inputTokens: 0, outputTokens: 0, turns: 0 },
    egress: [],
    timings: { setupMs: 0, checksMs: 0, agentMs: 0 },
  };
  const triage = { action: explained.decision.action, reason: explained.decision.reason };
  if (triage.action !== 'run') return { triage, ...base };

  const copy = await privateCopy(opts.repoPath);
  const { stdout: head } = await run('git', ['-C', copy, 'rev-parse', 'HEAD']);
  const ledger: EgressLedgerEntry[] = [];
  const sandbox = await opts.sandbox.acquire(`try-${Date.now()}`);
  try {
    const { system, prompt } = buildAgentPrompt([{ content: report, receivedAt: new Date() }]);
    const stage = await runStage({
      sandbox,
      archive: { tar: archiveOf(copy), baseCommit: head.trim() },
      agent: models.agent,
      budget: opts.budget ?? DEFAULT_RUN_BUDGET,
      task: { system, prompt },
      runnerCommand: DEFAULT_RUNNER_COMMAND,
      egress: async (allow, fn) => {
        const allowlist = resolveAllowlist(opts.egressLists ?? {}, allow);
        return (await withSetupEgress(sandbox, { allowHosts: allowlist.hosts, onEntry: (e) => ledger.push(e) }, fn)).result;
      },
      log,
    });
    const { outcome, changeSet, checks } = stage;
    const result: TryResult = {
      triage,
      ...base,
      outcome: outcome ? { kind: outcome.kind, ...('code' in outcome ? { code: String(outcome.code) } : {}) } : null,
      setup: checks.setup,
      checks: { status: checks.status, requirePassing: checks.requirePassing, commands: checks.commands, agentRequests: checks.agentRequests },
      reproduced: checks.reproduced,
      reproduction: checks.reproduction,
      cost: outcome
        ? { usd: outcome.costUsd, inputTokens: outcome.usage.inputTokens, outputTokens: outcome.usage.outputTokens, turns: outcome.usage.turns }
        : base.cost,
      egress: ledgerView(ledger),
      timings: { setupMs: Math.round(checks.setupMs), checksMs: Math.round(checks.checksMs), agentMs: Math.round(stage.agentMs) },
    };
    if (!changeSet || changeSet.entries.length === 0) return result;
    result.diff = await diffOf(copy, changeSet);
    try {
      const rules = compileRules(await loadDefaultRules(), stage.policyText === null ? undefined : parsePolicy(stage.policyText));
      const verdict = checkChangeSet(changeSet, rules);
      result.verdict = { allowed: verdict.allowed, violations: verdict.violations.map((v) => ({ path: v.path, rule: v.ruleId, reason: v.reason })) };
    } catch (e) {
      result.verdict = { allowed: false, violations: [], policyError: errorMessage(e) };
    }
    const blockedByChecks = checks.requirePassing && checks.status !== 'passed' && checks.status !== 'not_configured';
    result.wouldOpenDraft = result.verdict.allowed && !blockedByChecks;
    return result;
  } finally {
    await sandbox.destroy();
    await rm(dirname(copy), { recursive: true, force: true });
  }
}

/** The human form: verdict first, then checks, reproduction, cost, egress, and the diff last. */
export function renderTryResult(r: TryResult): string {
  const lines: string[] = [`Triage: ${r.triage.action} (${r.triage.reason})`];
  if (r.outcome) lines.push(`Agent: ${r.outcome.kind}${r.outcome.code ? ` (${r.outcome.code})` : ''}`);
  for (const s of r.setup) lines.push(`Setup: ${s.command} → ${s.exitCode === null ? 'did not finish' : `exit ${s.exitCode}`}`);
  lines.push(`Checks: ${r.checks.status}${r.checks.requirePassing ? ' (required to pass)' : ''}; the agent asked for them ${r.checks.agentRequests} times`);
  for (const c of r.checks.commands) {
    lines.push(`  ${c.command} → ${c.exitCode === null ? 'did not finish' : `exit ${c.exitCode}`} (${c.durationMs} ms)`);
    if (c.exitCode !== 0)
      lines.push(
        ...c.outputTail
          .trimEnd()
          .split('\n')
          .slice(-15)
          .map((l) => `    | ${l}`),
      );
  }
  if (r.reproduction) {
    lines.push(
      r.reproduced
        ? `Reproduced: ${r.reproduction.testPath} failed before the change and passes with it`
        : `Not reproduced: ${r.reproduction.testPath}: ${r.reproduction.note ?? 'no evidence'}`,
    );
  } else if (r.checks.status !== 'not_configured') lines.push('Not reproduced: the agent declared no reproducing test');
  lines.push(
    r.verdict.allowed
      ? 'Guardrail: allowed'
      : `Guardrail: refused${r.verdict.policyError ? ` (${r.verdict.policyError})` : ''}${r.verdict.violations.map((v) => `\n  ${JSON.stringify(v.path)} ${v.rule}: ${v.reason}`).join('')}`,
  );
  lines.push(`Draft: ${r.wouldOpenDraft ? 'a run would open a draft' : 'a run would not open a draft'}`);
  lines.push(`Cost: $${r.cost.usd.toFixed(4)} (${r.cost.turns} turns, ${r.cost.inputTokens} input and ${r.cost.outputTokens} output tokens)`);
  lines.push(`Egress: ${r.egress.length === 0 ? 'no connections' : ''}`);
  for (const e of r.egress) lines.push(`  ${e.allowed ? 'allowed' : 'refused'} ${e.host}:${e.port} (${e.reason}, ${e.bytesUp}↑ ${e.bytesDown}↓ bytes)`);
  lines.push(`Time: setup ${r.timings.setupMs} ms, checks ${r.timings.checksMs} ms, agent ${r.timings.agentMs} ms`);
  lines.push('', r.diff ? r.diff.trimEnd() : '(no change)');
  return `${lines.join('\n')}\n`;
}
