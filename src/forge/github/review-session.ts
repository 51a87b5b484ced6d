/**
 * Follow-ups from review on GitHub (issue 18): the commenter's permission on the
 * repository, asked of GitHub with the run-scoped token (metadata: read covers it), and
 * the PR conversation comments Userz writes (pull_requests: write covers them). The App's
 * three permissions stay as they are.
 */
import type { GitHubHttp } from './http.js';
import type { RepoPath } from './commit.js';

const WRITER_ROLES = new Set(['admin', 'maintain', 'write']);

interface PermissionAnswer {
  permission?: string;
  role_name?: string;
  user?: { id?: number; login?: string } | null;
}

/**
 * GET /repos/{owner}/{repo}/collaborators/{username}/permission. The answer must be about
 * the same account (by id) the signed webhook named: a login renamed and taken over in
 * between does not inherit the permission.
 */
export async function githubAccessOf(http: GitHubHttp, repo: RepoPath, user: { login: string; id: number }): Promise<{ writer: boolean; permission: string }> {
  const answer = await http.find<PermissionAnswer>(
    'read collaborator permission',
    `/repos/${repo.owner}/${repo.name}/collaborators/${encodeURIComponent(user.login)}/permission`,
  );
  if (!answer || answer.user?.id !== user.id) return { writer: false, permission: 'none' };
  const role = String(answer.role_name ?? answer.permission ?? 'none');
  return { writer: WRITER_ROLES.has(role) || WRITER_ROLES.has(String(answer.permission)), permission: role };
}

/** A PR conversation comment: created, or edited when its id is known (the one progress comment). */
export async function upsertGitHubComment(http: GitHubHttp, repo: RepoPath, number: number, commentId: string | null, body: string): Promise<string> {
  const base = `/repos/${repo.owner}/${repo.name}/issues`;
  if (commentId) {
    const edited = await http.find<{ id: number }>('edit PR comment', `${base}/comments/${encodeURIComponent(commentId)}`, { method: 'PATCH', body: { body } });
    if (edited) return String(edited.id);
    // Deleted by someone: write a new one.
  }
  const created = await http.request<{ id: number }>('comment on PR', `${base}/${number}/comments`, { method: 'POST', body: { body } });
  return String(created.id);
}
