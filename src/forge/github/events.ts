import { runIdFromBranch } from '../branch.js';

export type PullOutcome = 'merged' | 'closed' | 'reopened';

export interface PullRequestEventResult {
  runId: string;
  outcome: PullOutcome;
  number: number;
  url: string;
  /** GitHub's id of the repository the PR is in: the run must be of that repository. */
  repositoryId: number;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);

/**
 * A `pull_request` webhook about one of our PRs, else null. The head must be a
 * `userz/<run-id>` branch of the base repository itself: a fork can name its branch the
 * same way, and its PR says nothing about our run.
 */
export function parsePullRequestEvent(payload: unknown): PullRequestEventResult | null {
  const event = asObject(payload);
  const pr = asObject(event?.pull_request);
  const head = asObject(pr?.head);
  const base = asObject(pr?.base);
  if (!event || !pr || !head || !base) return null;
  const runId = runIdFromBranch(head.ref);
  const headRepo = asObject(head.repo);
  const baseRepo = asObject(base.repo);
  if (!runId || !headRepo || !baseRepo || headRepo.id !== baseRepo.id) return null;
  let outcome: PullOutcome;
  if (event.action === 'closed') outcome = pr.merged === true ? 'merged' : 'closed';
  else if (event.action === 'reopened') outcome = 'reopened';
  else return null;
  if (typeof pr.number !== 'number' || typeof pr.html_url !== 'string' || typeof baseRepo.id !== 'number') return null;
  return { runId, outcome, number: pr.number, url: pr.html_url, repositoryId: baseRepo.id };
}
