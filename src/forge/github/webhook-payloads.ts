import { z } from 'zod';

/**
 * The GitHub webhook payloads Userz acts on, in GitHub's documented shape
 * (docs.github.com/webhooks/webhook-events-and-payloads), limited to the fields the
 * handlers read. Objects are loose: GitHub adds fields over time and the handlers receive
 * the payload as GitHub sent it once these parts are known to be right. Ids end up in
 * bigint columns, so they are positive safe integers (JSON's `1e309` is Infinity, refused).
 */
export const GitHubId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

// GitHub: owner (≤ 39) / name (≤ 100), ASCII letters, digits, '-', '_', '.'.
const FullName = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/);
const Action = z.string().min(1).max(100);

export const InstallationRepository = z.looseObject({ id: GitHubId, full_name: FullName });
const Installation = z.looseObject({ id: GitHubId });

export const InstallationEvent = z.looseObject({
  action: Action,
  installation: Installation,
  repositories: z.array(InstallationRepository).max(10_000).nullish(),
});

export const InstallationRepositoriesEvent = z.looseObject({
  action: Action,
  installation: Installation,
  repositories_added: z.array(InstallationRepository).max(10_000),
  repositories_removed: z.array(InstallationRepository).max(10_000),
});

const PullRequestRef = z.looseObject({
  ref: z.string().max(1_000),
  // null when the head repository (a fork) was deleted
  repo: z.looseObject({ id: GitHubId }).nullable(),
});

export const PullRequestEvent = z.looseObject({
  action: Action,
  // Every delivery to a GitHub App names its installation (a repository webhook does not);
  // Probot authenticates the handler's context with it.
  installation: Installation,
  pull_request: z.looseObject({
    number: GitHubId,
    html_url: z.string().max(2_000),
    merged: z.boolean().nullish(),
    head: PullRequestRef,
    base: PullRequestRef,
  }),
});

// Follow-ups from review (issue 18): the author's id, login and account type (`Bot` for an
// App) come from here; whether they may write is asked of GitHub, never read from a name.
const Sender = z.looseObject({ id: GitHubId, login: z.string().min(1).max(100), type: z.string().max(50) });
const ReviewedPullRequest = z.looseObject({ number: GitHubId });
const Repository = z.looseObject({ id: GitHubId });

export const PullRequestReviewEvent = z.looseObject({
  action: Action,
  installation: Installation,
  repository: Repository,
  sender: Sender,
  pull_request: ReviewedPullRequest,
  review: z.looseObject({ state: z.string().max(50), body: z.string().max(262_144).nullish() }),
});

export const PullRequestReviewCommentEvent = z.looseObject({
  action: Action,
  installation: Installation,
  repository: Repository,
  sender: Sender,
  pull_request: ReviewedPullRequest,
  comment: z.looseObject({ body: z.string().max(262_144), path: z.string().max(4_096).nullish(), line: z.number().int().nullish() }),
});

/** The events Userz subscribes to (app.yml) and their schemas; any other event is acknowledged and ignored. */
export const HANDLED_GITHUB_EVENTS: Record<string, z.ZodType> = {
  installation: InstallationEvent,
  installation_repositories: InstallationRepositoriesEvent,
  pull_request: PullRequestEvent,
  pull_request_review: PullRequestReviewEvent,
  pull_request_review_comment: PullRequestReviewCommentEvent,
};

export type GitHubPayloadCheck = { kind: 'ignored' } | { kind: 'invalid'; issue: string } | { kind: 'valid'; payload: unknown };

/** Checks a verified, parsed payload against the schema of its event. */
export function checkGitHubPayload(event: string, payload: unknown): GitHubPayloadCheck {
  const schema = Object.hasOwn(HANDLED_GITHUB_EVENTS, event) ? HANDLED_GITHUB_EVENTS[event] : undefined;
  if (!schema) return { kind: 'ignored' };
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { kind: 'valid', payload: parsed.data };
  const first = parsed.error.issues[0]!;
  return { kind: 'invalid', issue: `${first.path.join('.') || 'body'}: ${first.message}` };
}
