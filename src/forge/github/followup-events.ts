/**
 * The review events that may ask Userz to follow up on one of its drafts (issue 18): a
 * review that requests changes, or a review / review comment whose text starts with
 * `/userz`. Everything about the author comes from the signed payload (id, login, and
 * GitHub's account type, `Bot` for Apps); whether they may write is asked of GitHub later.
 */
import { userzCommand } from '../review-command.js';

export type FollowUpTrigger = 'changes_requested' | 'command';

export interface GitHubFollowUpEvent {
  repositoryId: number;
  number: number;
  trigger: FollowUpTrigger;
  author: { login: string; id: number; isBot: boolean };
  /** The maintainer's text: the review body, or the command's text after `/userz`. */
  text: string;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);

export function parseGitHubFollowUpEvent(name: string, payload: unknown): GitHubFollowUpEvent | null {
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
    const command = userzCommand(review?.body);
    if (String(review?.state).toLowerCase() === 'changes_requested') {
      trigger = 'changes_requested';
      text = command ?? (typeof review?.body === 'string' ? review.body : '');
    } else if (command !== null) {
      trigger = 'command';
      text = command;
    } else return null;
  } else if (name === 'pull_request_review_comment' && event.action === 'created') {
    const comment = asObject(event.comment);
    const command = userzCommand(comment?.body);
    if (command === null) return null;
    trigger = 'command';
    const where = typeof comment?.path === 'string' ? `${comment.path}${typeof comment.line === 'number' ? `:${comment.line}` : ''}: ` : '';
    text = `${where}${command}`;
  } else return null;
  return { repositoryId: repo.id, number: pr.number, trigger, author: { login: sender.login, id: sender.id, isBot: sender.type === 'Bot' }, text };
}
