import type { Logger } from 'pino';
import { placeRunHold, runCapsOf, settleRunHold, type RunCaps } from '../billing/index.js';
import { transcriptToJsonl, type RunnerOutcome } from '../broker/index.js';
import { errorMessage, isUserzError, UserzError } from '../errors.js';
import type { ForgeSession, RepositoryArchive } from '../forge/index.js';
import { checkChangeSet, compileRules, loadDefaultRules, parsePolicy, POLICY_PATH, type CompiledRules } from '../guardrail/index.js';
import {
  closeBatch,
  enqueueJob,
  getApp,
  getRepo,
  getRunChecks,
  listBatchReports,
  lockDailyRunWindow,
  recordRepoPolicy,
  saveRunAttempt,
  saveRunChecks,
  setRunStateReason,
} from '../store/index.js';
import { ReportContent, buildAgentPrompt } from '../triage/index.js';
import { deserializeChangeSet, serializeChangeSet } from './change-set-blob.js';
import { describeDraft } from './draft-description.js';
import { failingCommand } from './checks.js';
import { DEFAULT_RUNNER_COMMAND, type PipelineDeps } from './deps.js';
import { runStage, type StageResult } from './run-stage.js';
import { withRunModel } from './models.js';
import { getRun, transitionRun, type Run } from './runs.js';
import { failedRunState } from './states.js';
import { assertSameTenant } from './tenancy.js';

/**
 * The run job, resumable at every state:
 *   triaged  → running: mint the 1-hour single-repo token, stream the archive into a new
 *              sandbox, run the agent through the broker, read the change set out, destroy
 *              the sandbox, store the change set and transcript → checking.
 *   running  (a worker died mid-run; its sandbox is reaped) → the agent phase again: no
 *              forge write happens before `checking`, so repeating it is safe.
 *   checking → guardrail on the stored change set → pr_failed, or the draft PR/MR
 *              (delivery finds its own branch/PR on retry) → pr_opened.
 * Terminal states end the job. Errors marked retryable propagate (the worker retries with
 * backoff); others end the run in the state the state machine gives their code
 * (states.ts `failedRunState`: `errored`, or `pr_failed` for a policy that does not parse),
 * with the code as the reason. A run over its App's daily limit is not a failure: it
 * returns `deferred` and the worker reschedules its job. Nor is a run that does not fit
 * under its org's monthly cap: it waits in `triaged` with reason `budget_exhausted` until
 * the month rolls over, a cap is raised or another run's hold is settled
 * (billing/spend.ts). A run's hold is placed in the transaction that starts it and settled
 * when its agent phase ends and again (idempotently) on every terminal transition.
 */
export type RunStep = { kind: 'done' } | { kind: 'deferred'; until: Date };

const DONE: RunStep = { kind: 'done' };

export async function executeRun(deps: PipelineDeps, runId: string, opts: { finalAttempt: boolean }): Promise<RunStep> {
  const log = deps.log.child({ runId });
  let run = await getRun(deps.db, runId);
  if (!run) throw new UserzError('run_not_found', `No run ${runId}`);
  if (run.state !== 'triaged' && run.state !== 'running' && run.state !== 'checking') return DONE;

  // Sandbox teardowns left to finish beside the guardrail and delivery; the job waits for them.
  const teardown: Promise<void>[] = [];
  try {
    if (run.state === 'triaged') {
      // Once a run starts, later reports start a new batch instead of joining one already in flight.
      await closeBatch(deps.db, run.batchId);
      const started = await startWithinDailyLimit(deps, run);
      if ('deferredUntil' in started) return { kind: 'deferred', until: started.deferredUntil };
      run = started.run;
      if (!run) return DONE;
    } else if (run.state === 'running') {
      const resumed = await resumeWithinBudget(deps, run);
      if (resumed) return { kind: 'deferred', until: resumed.deferredUntil };
    }
    await withForgeSession(deps, run, async (session) => {
      if (run!.state === 'running') {
        run = await agentPhase(deps, run!, session, log, teardown);
        if (!run || run.state !== 'checking') return;
      }
      await checkAndDeliver(deps, run!, session, log);
    });
    return DONE;
  } catch (e) {
    const retry = isUserzError(e) && e.retryable && !opts.finalAttempt;
    if (retry) throw e;
    const code = isUserzError(e) ? e.code : 'internal_error';
    log.warn({ code, err: errorMessage(e) }, 'Run failed');
    const current = await getRun(deps.db, runId);
    if (current && (current.state === 'running' || current.state === 'checking' || current.state === 'triaged')) {
      const to = failedRunState(current.state, code);
      // A policy that does not parse is the verdict: the draft fails closed with its reason.
      const verdict = to === 'pr_failed' ? { verdict: { allowed: false, violations: [], policyError: errorMessage(e) } } : {};
      await finish(deps, current, to, { reason: code, ...verdict });
    }
    return DONE;
  } finally {
    await Promise.all(teardown);
  }
}

/**
 * Per-App daily run limit: a run starts only while fewer than `daily_run_limit` runs of
 * its App started in the last 24 hours. The count and the transition happen under one
 * advisory lock per App, so concurrent workers cannot both take the last slot. Over the
 * limit the run stays `triaged` and its job is deferred until the oldest run in the
 * window ages out; the slot is released by time, whatever the run's outcome.
 */
async function startWithinDailyLimit(deps: PipelineDeps, run: Run): Promise<{ deferredUntil: Date } | { run: Run | null }> {
  return deps.db.transaction(async (tx): Promise<{ deferredUntil: Date } | { run: Run | null }> => {
    const window = await lockDailyRunWindow(tx, run.appId);
    const app = await getApp(tx, run.appId);
    if (app && window.started >= app.dailyRunLimit) {
      const until = new Date(window.oldestStart!.getTime() + 24 * 3600_000 + 1_000);
      await setRunStateReason(tx, run.id, 'daily_limit_reached');
      return { deferredUntil: until };
    }
    // After the App's lock, the org's budget row lock: one order everywhere, so no deadlock.
    const hold = await placeRunHold(tx, run, holdOptions(deps));
    if (!hold.placed) {
      await setRunStateReason(tx, run.id, 'budget_exhausted');
      return { deferredUntil: hold.retryAt };
    }
    return { run: await transitionRun(tx, run.id, run.state, 'running', {}) };
  });
}

const DEFAULT_HOLD_TTL_MS = 15 * 60_000;

/** How a run's hold is placed (the org's per-run caps default to the process's run budget); follow-ups take theirs the same way. */
export function holdOptions(deps: Pick<PipelineDeps, 'budget' | 'holdTtlMs'>): { defaults: RunCaps; ttlMs: number } {
  return { defaults: runCapsOf(deps.budget), ttlMs: deps.holdTtlMs ?? DEFAULT_HOLD_TTL_MS };
}

/**
 * A run resumed in `running` (a retry after its backoff, a dead worker's run) keeps its
 * hold only if the hold did not lapse meanwhile; otherwise it must fit under the monthly
 * cap again (placeRunHold), and if it does not it waits, still `running`, with reason
 * `budget_exhausted` until a wake or the month's rollover.
 */
async function resumeWithinBudget(deps: PipelineDeps, run: Run): Promise<{ deferredUntil: Date } | null> {
  return deps.db.transaction(async (tx) => {
    const hold = await placeRunHold(tx, run, holdOptions(deps));
    if (!hold.placed) {
      await setRunStateReason(tx, run.id, 'budget_exhausted');
      return { deferredUntil: hold.retryAt };
    }
    if (run.stateReason === 'budget_exhausted') await setRunStateReason(tx, run.id, null);
    return null;
  });
}

async function withForgeSession(deps: PipelineDeps, run: Run, fn: (session: ForgeSession) => Promise<void>): Promise<void> {
  if (!run.repoId) throw new UserzError('no_repo_linked', 'The App is not linked to a repository');
  const repo = await getRepo(deps.db, run.repoId);
  if (!repo || repo.removedAt || repo.suspendedAt) throw new UserzError('repo_unavailable', 'The repository is removed or suspended');
  // Right before the credential is minted (GitHub) or decrypted (GitLab): report, App and repo of one org.
  await assertSameTenant(deps.db, run, repo);
  const session = await deps.forgeFor(repo).openSession();
  try {
    await fn(session);
  } finally {
    await session.close(); // revokes the run's GitHub token whatever happened
  }
}

async function agentPhase(deps: PipelineDeps, run: Run, session: ForgeSession, log: Logger, teardown: Promise<void>[]): Promise<Run | null> {
  if (!deps.sandbox) throw new UserzError('sandbox_disabled', 'The sandbox is turned off (USERZ_SANDBOX=off)');
  deps = await withRunModel(deps, run); // the org's agent, metered, and the budget left under the run's hold
  const archive = await session.fetchArchive();
  const task = await buildTask(deps, run);
  const stage = await runAgentInSandbox(deps, run, archive, task, log, teardown);
  const { outcome, changeSet } = stage;
  await saveRunChecks(deps.db, { runId: run.id, ...stage.checks });
  if (run.repoId) {
    // The policy as read from the default branch's head, for the console's /repos page.
    await recordRepoPolicy(deps.db, { repoId: run.repoId, orgId: run.orgId, baseCommit: archive.baseCommit, policyText: stage.policyText });
  }
  if (stage.setupFailed || !outcome) return finish(deps, run, 'errored', { reason: 'setup_failed' });

  const logBlob = `runs/${run.id}/transcript.jsonl`;
  await deps.blobs.put(logBlob, Buffer.from(transcriptToJsonl(outcome.transcript)), { contentType: 'application/x-ndjson' });
  const usage = { ...outcome.usage, costUsd: outcome.costUsd };
  deps.metrics?.modelUsage({ purpose: 'agent', inputTokens: outcome.usage.inputTokens, outputTokens: outcome.usage.outputTokens, costUsd: outcome.costUsd });
  if (outcome.kind !== 'completed') {
    if (outcome.kind === 'model_error' && outcome.retryable) {
      await saveRunAttempt(deps.db, run.id, logBlob, usage);
      throw new UserzError(outcome.code, 'The model provider failed; the run will be retried', { retryable: true });
    }
    return finish(deps, run, 'errored', { reason: outcomeReason(outcome), logBlob, usage });
  }
  if (!changeSet || changeSet.entries.length === 0) return finish(deps, run, 'errored', { reason: 'no_changes', logBlob, usage });

  const changesetBlob = `runs/${run.id}/changeset.json`;
  await deps.blobs.put(changesetBlob, serializeChangeSet(changeSet));
  log.info(
    {
      files: changeSet.entries.length,
      bytes: changeSet.totalBytes,
      turns: outcome.usage.turns,
      checks: stage.checks.status,
      reproduced: stage.checks.reproduced,
    },
    'Agent finished',
  );
  const checking = await moveOrStop(deps, run, 'checking', { changesetBlob, logBlob, usage, baseCommit: changeSet.baseCommit, reason: null });
  // No model call follows the agent phase: its spend is final, and the hold's reserve is released.
  await settleRunHold(deps.db, run.id);
  return checking;
}

async function runAgentInSandbox(
  deps: PipelineDeps,
  run: Run,
  archive: RepositoryArchive,
  task: { system: string; prompt: string },
  log: Logger,
  teardown: Promise<void>[],
): Promise<StageResult> {
  const acquiring = performance.now();
  const sandbox = await deps.sandbox!.acquire(run.id);
  deps.metrics?.sandboxStarted((performance.now() - acquiring) / 1000);
  let destroying = false;
  try {
    const stage = await runStage({
      sandbox,
      archive,
      agent: deps.agent!,
      budget: deps.budget,
      prices: deps.modelPrices,
      task,
      runnerCommand: deps.runnerCommand ?? DEFAULT_RUNNER_COMMAND,
      // Setup's one path out, for this run's org and ledger (pipeline/egress.ts); absent: no network.
      egress: deps.setupEgress ? (allow, fn) => deps.setupEgress!(sandbox, { orgId: run.orgId, runId: run.id, allow }, fn) : undefined,
      log,
    });
    if (stage.changeSet) {
      // The change set is out and the sweep ended every process of the agent's: what is left
      // of the sandbox is inert (no network, nothing running), so its teardown (about a second
      // under runsc) runs beside storing, checking and delivering; executeRun still awaits it.
      destroying = true;
      teardown.push(sandbox.destroy());
    }
    return stage;
  } finally {
    if (!destroying) await sandbox.destroy();
  }
}

/** The agent's prompt from the batch's reports, built by the same function `userz triage explain` shows. */
async function buildTask(deps: PipelineDeps, run: Run): Promise<{ system: string; prompt: string }> {
  const reports = await listBatchReports(deps.db, run.batchId);
  if (reports.length === 0) throw new UserzError('batch_empty', 'The run has no report');
  const { system, prompt } = buildAgentPrompt(reports.map((r) => ({ content: ReportContent.parse(r.content), receivedAt: r.createdAt })));
  return { system, prompt };
}

async function checkAndDeliver(deps: PipelineDeps, run: Run, session: ForgeSession, log: Logger): Promise<void> {
  const data = run.changesetBlob ? await deps.blobs.get(run.changesetBlob) : null;
  if (!data) throw new UserzError('changeset_missing', 'The stored change set is gone');
  const changeSet = deserializeChangeSet(data);

  // A malformed repository policy throws policy_invalid: executeRun ends the run pr_failed.
  const rules = await loadRules(session, changeSet.baseCommit);
  const verdict = checkChangeSet(changeSet, rules);
  if (!verdict.allowed) {
    log.info({ violations: verdict.violations.length }, 'Guardrail rejected the change set');
    for (const ruleId of new Set(verdict.violations.map((v) => v.ruleId))) deps.metrics?.guardrailRejected(ruleId);
    await finish(deps, run, 'pr_failed', {
      reason: 'guardrail_rejected',
      verdict,
      audit: { violations: verdict.violations.map((v) => `${v.path} ${v.ruleId}`) },
    });
    return;
  }

  // With require_passing_checks, final checks that did not pass stop the draft (issue 18).
  const checks = await getRunChecks(deps.db, run.id);
  if (checks?.requirePassing && checks.status !== 'passed' && checks.status !== 'not_configured') {
    const failing = failingCommand(checks);
    log.info({ checks: checks.status }, 'Checks did not pass; no draft under require_passing_checks');
    await finish(deps, run, 'pr_failed', {
      reason: 'checks_failed',
      verdict,
      audit: { checks: checks.status, failingCommand: failing?.command ?? null, exitCode: failing?.exitCode ?? null },
    });
    return;
  }

  // The agent's words and a link to the report; never report text (draft-description.ts).
  const description = {
    ...(await describeDraft(deps, run, { checkedPaths: changeSet.entries.length, ruleCount: rules.rules.length })),
    ...(checks
      ? {
          checks: {
            status: checks.status,
            commands: checks.commands.map((c) => ({ command: c.command, exitCode: c.exitCode })),
            reproduced: checks.reproduced,
          },
        }
      : {}),
  };
  const delivery = await session.deliverDraft({ runId: run.id, changeSet, description });
  log.info({ prUrl: delivery.url, created: delivery.created }, 'Draft opened');
  await finish(deps, run, 'pr_opened', { reason: null, verdict, prUrl: delivery.url, prNumber: delivery.number, branch: delivery.branch });
}

export async function loadRules(session: ForgeSession, ref: string): Promise<CompiledRules> {
  const defaults = await loadDefaultRules();
  const policyText = await session.readFile(POLICY_PATH, ref);
  return compileRules(defaults, policyText === null ? undefined : parsePolicy(policyText));
}

type Finish = Parameters<typeof transitionRun>[4];

/** Moves to a terminal state and enqueues the reporter notification in the same transaction. */
async function finish(deps: PipelineDeps, run: Run, to: 'errored' | 'pr_failed' | 'pr_opened', fields: Finish): Promise<Run | null> {
  const ended = await deps.db.transaction(async (tx) => {
    const moved = await transitionRun(tx, run.id, run.state, to, fields);
    if (moved) await enqueueJob(tx, 'notify', `notify:${run.id}`, { runId: run.id });
    await settleRunHold(tx, run.id);
    return moved;
  });
  if (ended) deps.metrics?.runEnded(to, ended.startedAt ? Math.max(0, (Date.now() - ended.startedAt.getTime()) / 1000) : undefined);
  return ended;
}

async function moveOrStop(deps: PipelineDeps, run: Run, to: 'running' | 'checking', fields: Finish): Promise<Run | null> {
  return transitionRun(deps.db, run.id, run.state, to, fields);
}

export function outcomeReason(outcome: RunnerOutcome): string {
  switch (outcome.kind) {
    case 'budget_exceeded':
      return `budget_exceeded_${outcome.budget}`;
    case 'protocol_error':
    case 'runner_failed':
    case 'model_error':
      return outcome.code;
    case 'aborted':
      return 'aborted';
    case 'completed':
      return 'completed';
  }
}
