/**
 * Follow-ups from review (issue 18): a maintainer asks Userz to continue one of its drafts
 * (a review requesting changes, `/userz …`, or a mention of the App). Who asked is checked with the forge (write
 * access on GitHub, Developer or above on GitLab), never from a name or a `[bot]` suffix;
 * bots and people without write access are ignored and audited. At most
 * MAX_FOLLOW_UPS per draft are queued; one more is answered with a comment that says why
 * nothing happened. A queued follow-up shows in the draft's one progress comment, which
 * Userz edits rather than adding a comment per step.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Forge, ReviewSession } from '../forge/index.js';
import {
  countQueuedFollowUps,
  enqueueJob,
  getProgressComment,
  getRepo,
  insertFollowUpRequest,
  lockFollowUps,
  recordAudit,
  saveProgressComment,
  type Db,
  type Queryable,
  type FollowUpDecision,
  type Repo,
} from '../store/index.js';

export const MAX_FOLLOW_UPS = 3;
/** Maintainer feedback is capped like repository guidance: enough for a review, not a document. */
const MAX_FEEDBACK_CHARS = 8000;

export interface FollowUpDeps {
  db: Db;
  log: Logger;
  forgeFor(repo: Repo): Forge;
  publicUrl: string;
}

export interface FollowUpAsk {
  forge: 'github' | 'gitlab';
  deliveryId: string;
  /** The run whose draft the event is on (found by the PR/MR in the verified repository). */
  run: { id: string; orgId: string; repoId: string };
  number: number;
  trigger: string;
  author: { login: string; id: number; isBot: boolean };
  text: string;
}

export type FollowUpOutcome = FollowUpDecision | 'duplicate' | 'unsupported';

/** Decides, records and answers one ask. Never throws for the forge's sake: a failed comment is logged. */
export async function handleFollowUp(deps: FollowUpDeps, ask: FollowUpAsk): Promise<FollowUpOutcome> {
  const log = deps.log.child({ runId: ask.run.id, forge: ask.forge });
  const insert = async (tx: Queryable, decision: FollowUpDecision, permission: string | null): Promise<boolean> => {
    const inserted = await insertFollowUpRequest(tx, {
      orgId: ask.run.orgId,
      sourceRunId: ask.run.id,
      forge: ask.forge,
      deliveryId: ask.deliveryId,
      trigger: ask.trigger,
      author: ask.author.login,
      permission,
      decision,
      feedback: decision === 'queued' ? ask.text.slice(0, MAX_FEEDBACK_CHARS) : null,
    });
    if (inserted && decision === 'queued') {
      // The follow-up run (followup-run.ts), durable with the request it acts on.
      await enqueueJob(tx, 'followup', `followup:${inserted}`, { requestId: inserted });
    }
    if (inserted) {
      await recordAudit(tx, {
        actor: `${ask.forge}-user:${ask.author.id}`,
        action: `run.followup.${decision}`,
        orgId: ask.run.orgId,
        subject: ask.run.id,
        data: { login: ask.author.login.slice(0, 100), trigger: ask.trigger, permission },
      });
    }
    return inserted !== null;
  };
  const record = (decision: FollowUpDecision, permission: string | null) => deps.db.transaction((tx) => insert(tx, decision, permission));

  // GitHub's account type comes from the signed payload: an App or bot account never asks.
  if (ask.author.isBot) return (await record('ignored_bot', null)) ? 'ignored_bot' : 'duplicate';
  const repo = await getRepo(deps.db, ask.run.repoId);
  const forge = repo && !repo.removedAt && !repo.suspendedAt ? deps.forgeFor(repo) : undefined;
  if (!forge?.openReviewSession) return 'unsupported';
  const session = await forge.openReviewSession();
  try {
    const access = await session.accessOf(ask.author);
    if (!access.writer) return (await record('ignored_not_writer', access.permission)) ? 'ignored_not_writer' : 'duplicate';
    // Counted and recorded under the draft's row lock: two asks at once cannot both be the third.
    const decided = await deps.db.transaction(async (tx) => {
      await lockFollowUps(tx, ask.run.id);
      const queued = await countQueuedFollowUps(tx, ask.run.id);
      const decision: FollowUpDecision = queued >= MAX_FOLLOW_UPS ? 'limit_reached' : 'queued';
      return (await insert(tx, decision, access.permission)) ? { decision, ordinal: queued + 1 } : null;
    });
    if (!decided) return 'duplicate';
    await answer(deps, session, ask, decided, log);
    return decided.decision;
  } finally {
    await session.close();
  }
}

async function answer(
  deps: FollowUpDeps,
  session: ReviewSession,
  ask: FollowUpAsk,
  decided: { decision: FollowUpDecision; ordinal: number },
  log: Logger,
): Promise<void> {
  const link = `${deps.publicUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(ask.run.id)}`;
  try {
    if (decided.decision === 'limit_reached') {
      await session.upsertComment(
        ask.number,
        null,
        `Userz did not start a follow-up: this draft already had ${MAX_FOLLOW_UPS}, the most one draft gets. Continue the change by hand, or file a new report. ([run](${link}))`,
      );
      return;
    }
    const existing = await getProgressComment(deps.db, ask.run.id);
    const body = progressBody(decided.ordinal, 'queued', link);
    const commentId = await session.upsertComment(ask.number, existing?.commentId ?? null, body);
    await saveProgressComment(deps.db, ask.run.id, commentId, 'queued');
  } catch (e) {
    log.warn({ err: errorMessage(e) }, 'Follow-up comment not written');
  }
}

/** The progress comment: Userz's own words and a console link only, never the maintainer's or the reporter's text. */
export function progressBody(ordinal: number, status: string, link: string): string {
  return [`**Userz follow-up ${ordinal} of ${MAX_FOLLOW_UPS}**: ${status}.`, '', `Details in the console: ${link}`].join('\n');
}
