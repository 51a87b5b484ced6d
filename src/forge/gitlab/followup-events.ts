/**
 * A note on a Userz MR that asks for a follow-up (issue 18): its text starts with
 * `/userz`. The author's id comes from the verified payload; their access level is asked
 * of GitLab later. An MR from a fork says nothing about our run.
 */
import { userzCommand } from '../review-command.js';

export interface GitLabFollowUpNote {
  projectId: number;
  /** The MR's iid. */
  number: number;
  author: { login: string; id: number; isBot: boolean };
  text: string;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);

export function parseGitLabFollowUpNote(payload: unknown): GitLabFollowUpNote | null {
  const event = asObject(payload);
  const attrs = asObject(event?.object_attributes);
  const mr = asObject(event?.merge_request);
  const project = asObject(event?.project);
  const user = asObject(event?.user);
  if (event?.object_kind !== 'note' || !attrs || !mr || !project || !user) return null;
  if (attrs.noteable_type !== 'MergeRequest' || attrs.system === true) return null;
  const text = userzCommand(attrs.note);
  if (text === null) return null;
  if (typeof project.id !== 'number' || typeof mr.iid !== 'number' || typeof user.id !== 'number' || typeof user.username !== 'string') return null;
  if (mr.source_project_id !== mr.target_project_id || mr.target_project_id !== project.id) return null;
  // GitLab marks bot users (project/group access tokens, service accounts) in the payload only on some
  // versions; where it does, they never ask. Everyone else is judged by their access level.
  const isBot = user.bot === true || /^(project|group)_\d+_bot/.test(user.username);
  return { projectId: project.id, number: mr.iid, author: { login: user.username, id: user.id, isBot }, text };
}
