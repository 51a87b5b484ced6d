/**
 * The review events that may ask Userz to follow up on one of its drafts (issue 18): a
 * review that requests changes, or a review / review comment whose text starts with
 * `/userz` or mentions the App (`@<slug>`, when the server knows its slug). Everything
 * about the author comes from the signed payload (id, login, and GitHub's account type,
 * `Bot` for Apps); whether they may write is asked of GitHub later.
 */
import { mentionText, userzCommand } from '../review-command.js';

export type FollowUpTrigger = 'changes_requested' | 'command' | 'mention';

export interface GitHubFollowUpEvent {
  repositoryId: number;
  number: number;
  trigger: FollowUpTrigger;
  author: { login: string; id: number; isBot: boolean };
  /** The maintainer's text: the review body, the command's text after `/userz`, or the text around the mention. */
  text: string;
}

export interface GitHubFollowUpOptions {
  /** GITHUB_APP_SLUG: `@<slug>` in a review or review comment asks too. Unset: only `/userz` and change requests ask. */
  appSlug?: string;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);

export function parseGitHubFollowUpEvent(name: string, payload: unknown, options: GitHubFollowUpOptions = {}): GitHubFollowUpEvent | null {
  const event = asObject(payload);
  const pr = asObject(event?.pull_request);
  const repo = asObject(event?.repository);
  const sender = asObject(event?.sender);
  if (!event || !pr || !repo || !sender) return null;
  if (typeof repo.id !== 'number' || typeof pr.number !== 'number' || typeof sender.id !== 'number' || typeof sender.login !== 'string') return null;
  let trigger: FollowUpTrigger;
  let text: string;
  if (name === 'pull_request_review' && event.action === 'submitted') {
    const review = asObject(event.review);
    const ask = askOf(review?.body, options.appSlug);
    if (String(review?.state).toLowerCase() === 'changes_requested') {
      trigger = 'changes_requested';
      text = ask?.text ?? (typeof review?.body === 'string' ? review.body : '');
    } else if (ask) {
      trigger = ask.trigger;
      text = ask.text;
    } else return null;
  } else if (name === 'pull_request_review_comment' && event.action === 'created') {
    const comment = asObject(event.comment);
    const ask = askOf(comment?.body, options.appSlug);
    if (!ask) return null;
    trigger = ask.trigger;
    const where = typeof comment?.path === 'string' ? `${comment.path}${typeof comment.line === 'number' ? `:${comment.line}` : ''}: ` : '';
    text = `${where}${ask.text}`;
  } else return null;
  return {
    repositoryId: repo.id,
    number: pr.number,
    trigger,
    author: { login: sender.login, id: sender.id, isBot: isBotSender(sender, options.appSlug) },
    text,
  };
}

/** `/userz …` first; else a mention of the App. */
function askOf(body: unknown, appSlug: string | undefined): { trigger: 'command' | 'mention'; text: string } | null {
  const command = userzCommand(body);
  if (command !== null) return { trigger: 'command', text: command };
  const mentioned = mentionText(body, appSlug);
  return mentioned === null ? null : { trigger: 'mention', text: mentioned };
}

/**
 * GitHub's account type `Bot` (Apps, ours included). The App's own account (`<slug>[bot]`)
 * also counts by its name, so that its own words that name it can never ask it again:
 * a name may only take asking away, never grant it.
 */
function isBotSender(sender: Json, appSlug: string | undefined): boolean {
  if (sender.type === 'Bot') return true;
  return !!appSlug && String(sender.login).toLowerCase() === `${appSlug.toLowerCase()}[bot]`;
}
