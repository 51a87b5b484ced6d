/**
 * A note on a Userz MR that asks for a follow-up (issue 18): its text starts with
 * `/userz`, or it mentions `@<bot username>` when the server has one
 * (USERZ_GITLAB_BOT_USERNAME). The author's id comes from the verified payload; their
 * access level is asked of GitLab later. An MR from a fork says nothing about our run.
 *
 * Why a setting and not the project token's own bot user (`GET /user` with the token):
 * that name (`project_<id>_bot_<random>`) differs per project and changes when the token
 * is replaced, so maintainers could not know what to type, and learning it would cost a
 * token decryption and a GitLab call for every note before we know the note is for us.
 * One name for the whole server, typed the same way everywhere, is what a mention needs.
 */
import { mentionText, userzCommand } from '../review-command.js';

export interface GitLabFollowUpNote {
  projectId: number;
  /** The MR's iid. */
  number: number;
  author: { login: string; id: number; isBot: boolean };
  trigger: 'command' | 'mention';
  text: string;
}

export interface GitLabFollowUpOptions {
  /** USERZ_GITLAB_BOT_USERNAME: `@<name>` in a note asks too. Unset: only `/userz` asks. */
  botUsername?: string;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);

export function parseGitLabFollowUpNote(payload: unknown, options: GitLabFollowUpOptions = {}): GitLabFollowUpNote | null {
  const event = asObject(payload);
  const attrs = asObject(event?.object_attributes);
  const mr = asObject(event?.merge_request);
  const project = asObject(event?.project);
  const user = asObject(event?.user);
  if (event?.object_kind !== 'note' || !attrs || !mr || !project || !user) return null;
  if (attrs.noteable_type !== 'MergeRequest' || attrs.system === true) return null;
  const command = userzCommand(attrs.note);
  const mentioned = command === null ? mentionText(attrs.note, options.botUsername) : null;
  if (command === null && mentioned === null) return null;
  if (typeof project.id !== 'number' || typeof mr.iid !== 'number' || typeof user.id !== 'number' || typeof user.username !== 'string') return null;
  if (mr.source_project_id !== mr.target_project_id || mr.target_project_id !== project.id) return null;
  // GitLab marks bot users (project/group access tokens, service accounts) in the payload only on some
  // versions; where it does, they never ask. The configured bot name never asks either (a name may
  // take asking away, never grant it), so a note of ours that names it cannot loop. Everyone
  // else is judged by their access level.
  const isBot =
    user.bot === true ||
    /^(project|group)_\d+_bot/.test(user.username) ||
    (!!options.botUsername && user.username.toLowerCase() === options.botUsername.toLowerCase());
  const author = { login: user.username, id: user.id, isBot };
  if (command !== null) return { projectId: project.id, number: mr.iid, author, trigger: 'command', text: command };
  return { projectId: project.id, number: mr.iid, author, trigger: 'mention', text: mentioned ?? '' };
}
