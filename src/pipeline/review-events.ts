import type { Probot } from 'probot';
import type { Logger } from 'pino';
import { UserzError } from '../errors.js';
import { parseJson, readBody, sendJson, type Router } from '../http/index.js';
import {
  checkGitLabPayload,
  deliveryIdOf,
  gitLabProjectIdOf,
  parseGitHubFollowUpEvent,
  parseGitLabFollowUpNote,
  parseMergeRequestEvent,
  parsePullRequestEvent,
  verifyGitLabWebhook,
} from '../forge/index.js';
import type { Vault } from '../security/index.js';
import { enqueueJob, findRunByPullRequest, listLiveReposByExternalId, recordDelivery, type Db, type Queryable } from '../store/index.js';
import { handleFollowUp, type FollowUpDeps } from './followups.js';
import { recordReviewState } from './runs.js';

/**
 * What happens to a draft after it is opened (merged, closed, reopened) comes back as a
 * forge event and is recorded on the run. The forge module parses and verifies the events;
 * this is the workflow around them (which repo's secret, which run, once per delivery). Deliveries are de-duplicated by their ids in the
 * same transaction as the effect.
 */
export function registerGitHubReviewEvents(
  app: Probot,
  deps: {
    db: Db;
    log: Logger;
    followUps?: Omit<FollowUpDeps, 'db' | 'log'>;
    /** GITHUB_APP_SLUG: `@<slug>` asks for a follow-up like `/userz`; unset, mentions ask nothing. */
    appSlug?: string;
  },
): void {
  app.on('pull_request', async (context) => {
    const result = parsePullRequestEvent(context.payload);
    if (!result) return;
    await deps.db.transaction(async (tx) => {
      if (!(await recordDelivery(tx, 'github', context.id, `pull_request.${context.payload.action}`))) return;
      const recorded = await recordReviewState(tx, result.runId, result.outcome, 'github', { githubRepositoryId: result.repositoryId });
      if (recorded) await queueReviewNotice(tx, result.runId, result.outcome);
      deps.log.info({ runId: result.runId, outcome: result.outcome, recorded }, 'Draft review state changed');
    });
  });
  const followUps = deps.followUps;
  if (!followUps) return;
  // Follow-ups from review (issue 18): the PR is found in the repository the signed payload names.
  app.on(['pull_request_review.submitted', 'pull_request_review_comment.created'], async (context) => {
    const ask = parseGitHubFollowUpEvent(context.name, context.payload, { appSlug: deps.appSlug });
    if (!ask) return;
    const run = await findRunByPullRequest(deps.db, 'github', String(ask.repositoryId), ask.number);
    if (!run?.repoId) return;
    const outcome = await handleFollowUp(
      { ...followUps, db: deps.db, log: deps.log },
      {
        forge: 'github',
        deliveryId: context.id,
        run: { ...run, repoId: run.repoId },
        number: ask.number,
        trigger: ask.trigger,
        author: ask.author,
        text: ask.text,
      },
    );
    deps.log.info({ runId: run.id, outcome, trigger: ask.trigger }, 'Follow-up asked on a draft');
  });
}

/** A `/userz` note (or one mentioning the bot name) on one of our MRs in the project whose secret verified the delivery (issue 18). */
async function gitLabFollowUp(deps: GitLabWebhookDeps, repoId: string, deliveryId: string, payload: unknown) {
  const ask = deps.followUps ? parseGitLabFollowUpNote(payload, { botUsername: deps.botUsername }) : null;
  if (!ask || !deps.followUps) return;
  const run = await findRunByPullRequest(deps.db, 'gitlab', String(ask.projectId), ask.number);
  if (!run || run.repoId !== repoId) return;
  const outcome = await handleFollowUp(
    { ...deps.followUps, db: deps.db, log: deps.log },
    { forge: 'gitlab', deliveryId, run: { ...run, repoId }, number: ask.number, trigger: ask.trigger, author: ask.author, text: ask.text },
  );
  deps.log.info({ runId: run.id, outcome, trigger: ask.trigger }, 'Follow-up asked on a draft');
}

/** Merged or closed: the reporters hear it (a notify job, in the transaction that recorded it; once per outcome). */
async function queueReviewNotice(tx: Queryable, runId: string, outcome: string): Promise<void> {
  if (outcome !== 'merged' && outcome !== 'closed') return;
  await enqueueJob(tx, 'notify', `notify-review:${runId}:${outcome}`, { runId, review: outcome });
}

/**
 * `POST /api/gitlab/webhooks`: X-Gitlab-Token compared in constant time against the
 * secret of the project the event names; de-duplicated by Idempotency-Key (else
 * X-Gitlab-Event-UUID). Unknown projects and bad tokens get 401 and change nothing.
 */
/** GitLab's payloads for the events Userz reads are small; a bigger body is refused while reading (413). */
export const GITLAB_WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024;

interface GitLabWebhookDeps {
  db: Db;
  log: Logger;
  followUps?: Omit<FollowUpDeps, 'db' | 'log'>;
  /** USERZ_GITLAB_BOT_USERNAME: `@<name>` in a note asks for a follow-up like `/userz`; unset, mentions ask nothing. */
  botUsername?: string;
}

export function registerGitLabWebhookRoute(router: Router, deps: GitLabWebhookDeps & { vault: Vault }): void {
  router.add('POST', '/api/gitlab/webhooks', async (req, res) => {
    if (!req.headers['x-gitlab-token']) throw new UserzError('bad_signature', 'GitLab webhook token does not match');
    const payload = parseJson(await readBody(req, GITLAB_WEBHOOK_BODY_LIMIT));
    const projectId = gitLabProjectIdOf(payload);
    if (projectId === null) throw new UserzError('invalid_payload', 'The GitLab payload does not name a project');
    const repos = await listLiveReposByExternalId(deps.db, 'gitlab', String(projectId));
    let verified: string | null = null;
    for (const repo of repos) {
      if (!repo.webhookSecretId) continue;
      const secret = await deps.vault.revealSecret(repo.webhookSecretId, { actor: 'gitlab-webhook', purpose: 'verify webhook' });
      try {
        verifyGitLabWebhook({ headers: req.headers, secret });
        verified = repo.id;
        break;
      } catch {
        // try the next repo with the same project id (several GitLab instances)
      }
    }
    if (!verified) throw new UserzError('bad_signature', 'GitLab webhook token does not match');
    const verifiedRepoId = verified;
    const deliveryId = deliveryIdOf(req.headers);
    if (!deliveryId) throw new UserzError('missing_delivery_id', 'Idempotency-Key or X-Gitlab-Event-UUID is required');
    const checked = checkGitLabPayload(payload);
    if (checked.kind === 'ignored') return sendJson(res, 200, { ok: true, ignored: 'event_not_handled' });
    if (checked.kind === 'invalid') {
      deps.log.warn({ deliveryId: deliveryId.slice(0, 100), issue: checked.issue }, 'GitLab delivery refused: payload does not match the event schema');
      throw new UserzError('invalid_payload', 'The GitLab payload does not have the documented shape');
    }
    if (checked.objectKind === 'note') {
      await gitLabFollowUp(deps, verifiedRepoId, deliveryId, checked.payload);
      return sendJson(res, 200, { ok: true });
    }
    const result = parseMergeRequestEvent(checked.payload);
    await deps.db.transaction(async (tx) => {
      if (!(await recordDelivery(tx, 'gitlab', deliveryId, String(req.headers['x-gitlab-event'] ?? '')))) return;
      // Only a run of the project whose secret verified this delivery.
      if (result && (await recordReviewState(tx, result.runId, result.outcome, 'gitlab', { repoId: verifiedRepoId }))) {
        await queueReviewNotice(tx, result.runId, result.outcome);
      }
    });
    sendJson(res, 200, { ok: true });
  });
}
