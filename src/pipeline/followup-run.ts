/**
 * The follow-up run (issue 18): a queued follow-up from review (followups.ts) continues its
 * draft. In a fresh sandbox on the draft branch's head (not the base), the agent gets the
 * draft's reports inside the untrusted wrapper as before and the maintainer's text outside
 * it, as maintainer feedback; setup, the checks and the guardrail (with the policy of the
 * draft's base commit) apply as on the first run. What it changes is pushed as one commit
 * whose parent is the branch head, onto the same branch, never forced. The draft's one
 * progress comment says running, checks, then done or failed, with the console link; the
 * request row records the outcome. Follow-ups on one draft run one after another.
 *
 * Nothing is done twice: the commit carries `Userz-Follow-Up: <ordinal>` beside `Userz-Run`,
 * and before anything else a follow-up reads the branch head; if that is already its own
 * commit (an earlier attempt pushed, then died before recording it) it records `pushed`
 * with that commit and ends, without running the agent again. Money as for a first run
 * (run.ts, billing/spend.ts): the run's hold is placed again, under the org's monthly caps,
 * before the agent starts (a follow-up that does not fit ends `failed` with
 * `budget_exhausted`, the first run's reason, and pushes nothing); its model calls are
 * ledger rows of the org and the run; the hold is settled when the follow-up ends.
 */
import type { Logger } from 'pino';
import { transcriptToJsonl } from '../broker/index.js';
import { placeRunHold, settleRunHold } from '../billing/index.js';
import { errorMessage, isUserzError, UserzError } from '../errors.js';
import { commitTrailers, renderCommitMessage, type ForgeSession, type ReviewSession } from '../forge/index.js';
import { checkChangeSet } from '../guardrail/index.js';
import {
  getProgressComment,
  getQueuedFollowUp,
  getRepo,
  hasEarlierOpenFollowUp,
  listBatchReports,
  recordAudit,
  saveProgressComment,
  setFollowUpOutcome,
  type QueuedFollowUp,
} from '../store/index.js';
import { ReportContent, buildAgentPrompt, removeTagNameVariants } from '../triage/index.js';
import { failingCommand } from './checks.js';
import { DEFAULT_RUNNER_COMMAND, type PipelineDeps } from './deps.js';
import { followUpSummary } from './draft-description.js';
import { progressBody } from './followups.js';
import { withRunModel } from './models.js';
import { holdOptions, loadRules, outcomeReason, type RunStep } from './run.js';
import { runStage } from './run-stage.js';
import { getRun, type Run } from './runs.js';
import { assertSameTenant } from './tenancy.js';

/** An earlier follow-up on the same draft still runs: this one waits for its commit. */
const WAIT_FOR_EARLIER_MS = 30_000;
/** The webhook that queued the request writes the progress comment right after it; give it this long before writing a new one. */
const WAIT_FOR_COMMENT_MS = 60_000;

type Ended = { outcome: 'pushed'; commitSha: string } | { outcome: 'failed'; reason: string };

export async function executeFollowUp(deps: PipelineDeps, requestId: string, opts: { finalAttempt: boolean }): Promise<RunStep> {
  const request = await getQueuedFollowUp(deps.db, requestId);
  if (!request || request.outcome === 'pushed' || request.outcome === 'failed') return { kind: 'done' };
  if (await hasEarlierOpenFollowUp(deps.db, request)) return { kind: 'deferred', until: new Date(Date.now() + WAIT_FOR_EARLIER_MS) };
  const comment = await getProgressComment(deps.db, request.sourceRunId);
  // The webhook's `queued` edit comes first, so this run's edits never land before it (a comment it could not write is waited for a minute).
  if (comment?.status !== 'queued' && Date.now() - request.createdAt.getTime() < WAIT_FOR_COMMENT_MS) {
    return { kind: 'deferred', until: new Date(Date.now() + 2_000) };
  }

  const log = deps.log.child({ runId: request.sourceRunId, followUp: request.id });
  const run = await getRun(deps.db, request.sourceRunId);
  const repo = run?.repoId ? await getRepo(deps.db, run.repoId) : null;
  if (!run || !repo || run.state !== 'pr_opened' || !run.branch || !run.prNumber)
    return end(deps, request, null, { outcome: 'failed', reason: 'draft_unavailable' }, log);
  if (repo.removedAt || repo.suspendedAt) return end(deps, request, null, { outcome: 'failed', reason: 'repo_unavailable' }, log);
  await assertSameTenant(deps.db, run, repo);
  const forge = deps.forgeFor(repo);
  if (!forge.openReviewSession) return end(deps, request, null, { outcome: 'failed', reason: 'unsupported' }, log);

  const review = await forge.openReviewSession();
  const progress = { review, number: run.prNumber };
  try {
    await setFollowUpOutcome(deps.db, request.id, 'running');
    await say(deps, request, progress, 'running', log);
    const session = await forge.openSession();
    let ended: Ended;
    try {
      ended = await followUpPhase(deps, run, request, session, () => say(deps, request, progress, 'checks', log), log);
    } catch (e) {
      if (isUserzError(e) && e.retryable && !opts.finalAttempt) throw e; // the request stays `running`; the job retries
      log.warn({ code: isUserzError(e) ? e.code : 'internal_error', err: errorMessage(e) }, 'Follow-up failed');
      ended = { outcome: 'failed', reason: isUserzError(e) ? e.code : 'internal_error' };
    } finally {
      await session.close();
    }
    return await end(deps, request, progress, ended, log, { settleHold: true });
  } finally {
    await review.close();
  }
}

async function followUpPhase(
  deps: PipelineDeps,
  run: Run,
  request: QueuedFollowUp,
  session: ForgeSession,
  onChecks: () => Promise<void>,
  log: Logger,
): Promise<Ended> {
  const branch = run.branch!;
  // A retry after an attempt that pushed but died before recording it: the head is that commit.
  const head = await session.branchHead(branch);
  const trailers = head ? commitTrailers(head.message) : null;
  if (head && trailers?.runId === run.id && trailers.followUp === request.ordinal) {
    log.info({ commit: head.sha }, 'Follow-up commit already on the branch; recorded, not pushed again');
    await recordAudit(deps.db, {
      actor: 'userz',
      action: 'run.followup.push_found',
      orgId: run.orgId,
      subject: run.id,
      data: { commit: head.sha, ordinal: request.ordinal },
    });
    return { outcome: 'pushed', commitSha: head.sha };
  }
  if (!head) throw new UserzError('forge_not_found', "The draft's branch no longer exists");
  const driver = deps.sandbox;
  if (!driver) throw new UserzError('sandbox_disabled', 'The sandbox is turned off (USERZ_SANDBOX=off)');
  // The run's hold again, as a first run takes it: under the org's budget lock and its monthly caps.
  const hold = await deps.db.transaction((tx) => placeRunHold(tx, run, holdOptions(deps)));
  if (!hold.placed) {
    log.info({ retryAt: hold.retryAt.toISOString() }, "Follow-up does not fit under the org's monthly cap; not started");
    return { outcome: 'failed', reason: 'budget_exhausted' };
  }
  deps = await withRunModel(deps, run); // the org's agent, metered, and the budget left under the hold
  // The head read above, by its id: the agent continues its own change, the new commit's parent is this head,
  // and a push to the branch since then is refused by pushCommit rather than built on unseen.
  const archive = await session.fetchArchive({ commit: head.sha });
  const task = await followUpTask(deps, run, request);
  const sandbox = await driver.acquire(run.id);
  const stage = await (async () => {
    try {
      return await runStage({
        sandbox,
        archive,
        agent: deps.agent!,
        budget: deps.budget,
        prices: deps.modelPrices,
        task,
        runnerCommand: deps.runnerCommand ?? DEFAULT_RUNNER_COMMAND,
        egress: deps.setupEgress ? (allow, fn) => deps.setupEgress!(sandbox, { orgId: run.orgId, runId: run.id, allow }, fn) : undefined,
        onChecks,
        log,
      });
    } finally {
      await sandbox.destroy();
    }
  })();
  if (stage.setupFailed || !stage.outcome) return { outcome: 'failed', reason: 'setup_failed' };
  const { outcome, changeSet } = stage;
  await deps.blobs.put(`runs/${run.id}/followup-${request.ordinal}.jsonl`, Buffer.from(transcriptToJsonl(outcome.transcript)), {
    contentType: 'application/x-ndjson',
  });
  // Counted as a first run's agent phase is (its ledger rows are written by the metered agent).
  deps.metrics?.modelUsage({ purpose: 'agent', inputTokens: outcome.usage.inputTokens, outputTokens: outcome.usage.outputTokens, costUsd: outcome.costUsd });
  if (outcome.kind !== 'completed') {
    if (outcome.kind === 'model_error' && outcome.retryable)
      throw new UserzError(outcome.code, 'The model provider failed; the follow-up will be retried', { retryable: true });
    return { outcome: 'failed', reason: outcomeReason(outcome) };
  }
  if (!changeSet || changeSet.entries.length === 0) return { outcome: 'failed', reason: 'no_changes' };

  // The guardrail with the policy of the draft's base commit: the branch is the agent's own work.
  const rules = await loadRules(session, run.baseCommit ?? archive.baseCommit);
  const verdict = checkChangeSet(changeSet, rules);
  if (!verdict.allowed) {
    await recordAudit(deps.db, {
      actor: 'userz',
      action: 'run.followup.guardrail_rejected',
      orgId: run.orgId,
      subject: run.id,
      data: { violations: verdict.violations.map((v) => `${v.path} ${v.ruleId}`) },
    });
    return { outcome: 'failed', reason: 'guardrail_rejected' };
  }
  const checks = stage.checks;
  if (checks.requirePassing && checks.status !== 'passed' && checks.status !== 'not_configured') {
    log.info({ checks: checks.status, failing: failingCommand(checks)?.command ?? null }, 'Follow-up checks did not pass; nothing pushed');
    return { outcome: 'failed', reason: 'checks_failed' };
  }
  const summary = await followUpSummary(deps, run, outcome.summary);
  const message = renderCommitMessage({ runId: run.id, title: `Follow-up ${request.ordinal} from review (${run.id})`, summary, followUp: request.ordinal });
  const commitSha = await session.pushCommit({ branch, changeSet, message });
  log.info({ files: changeSet.entries.length, checks: checks.status, commit: commitSha }, 'Follow-up pushed');
  return { outcome: 'pushed', commitSha };
}

/** The first run's task, its reports inside the wrapper, with the maintainer's feedback outside it. */
async function followUpTask(deps: PipelineDeps, run: Run, request: QueuedFollowUp): Promise<{ system: string; prompt: string }> {
  const reports = await listBatchReports(deps.db, run.batchId);
  if (reports.length === 0) throw new UserzError('batch_empty', 'The run has no report');
  const { system, prompt } = buildAgentPrompt(reports.map((r) => ({ content: ReportContent.parse(r.content), receivedAt: r.createdAt })));
  return { system: [system, maintainerFeedbackBlock(request)].join('\n\n'), prompt };
}

/** The maintainer's words as they enter the system prompt: plain text, no controls, no wrapper tag name. */
function maintainerFeedbackBlock(request: Pick<QueuedFollowUp, 'feedback' | 'ordinal'>): string {
  const clean = removeTagNameVariants(request.feedback.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')).trim();
  return [
    `This is follow-up ${request.ordinal}: your earlier change for this report is already in the working tree (the draft's branch).`,
    'A maintainer with write access to the repository reviewed it and asked for more. Their feedback (from the maintainer, not from the report):',
    clean,
    'Change the tree to address the feedback, keeping the fix for the report; the host commits what you change on top of the draft.',
  ].join('\n');
}

async function say(
  deps: PipelineDeps,
  request: QueuedFollowUp,
  progress: { review: ReviewSession; number: number },
  status: string,
  log: Logger,
): Promise<void> {
  const link = `${deps.publicUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(request.sourceRunId)}`;
  try {
    const existing = await getProgressComment(deps.db, request.sourceRunId);
    const id = await progress.review.upsertComment(progress.number, existing?.commentId ?? null, progressBody(request.ordinal, status, link));
    await saveProgressComment(deps.db, request.sourceRunId, id, status.split(/[ :(]/)[0]!);
  } catch (e) {
    log.warn({ err: errorMessage(e) }, 'Follow-up progress comment not written');
  }
}

async function end(
  deps: PipelineDeps,
  request: QueuedFollowUp,
  progress: { review: ReviewSession; number: number } | null,
  ended: Ended,
  log: Logger,
  opts: { settleHold?: boolean } = {},
): Promise<RunStep> {
  await deps.db.transaction(async (tx) => {
    await setFollowUpOutcome(tx, request.id, ended.outcome, ended.outcome === 'pushed' ? { commitSha: ended.commitSha } : { reason: ended.reason });
    await recordAudit(tx, {
      actor: 'userz',
      action: `run.followup.${ended.outcome}`,
      orgId: request.orgId,
      subject: request.sourceRunId,
      data: ended.outcome === 'pushed' ? { commit: ended.commitSha } : { reason: ended.reason },
    });
    // No model call follows: the hold is settled to the follow-up's spend (a no-op when it took none).
    // Only once the draft was checked: a run that is not a draft may hold its own first run's hold.
    if (opts.settleHold) await settleRunHold(tx, request.sourceRunId);
  });
  if (progress) {
    const status = ended.outcome === 'pushed' ? `done, commit ${ended.commitSha.slice(0, 12)} pushed to the draft` : failedStatus(ended.reason);
    await say(deps, request, progress, status, log);
  }
  return { kind: 'done' };
}

/** The progress comment's failure line: the reason code, and for the org's cap, what it means. */
function failedStatus(reason: string): string {
  if (reason === 'budget_exhausted') return "failed (budget_exhausted): the organization's monthly spend cap is reached, nothing was pushed";
  return `failed (${reason})`;
}
