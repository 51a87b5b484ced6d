import { UserzError } from '../../errors.js';
import { normalizeArchive } from '../archive.js';
import type { BranchHead, RepositoryArchive } from '../interface.js';
import { repoApi, type RepoPath } from './commit.js';
import type { GitHubHttp } from './http.js';

/** The tarball of exactly one commit: the one given, or the branch's head read first (so archive and base agree). */
export async function fetchGitHubArchive(http: GitHubHttp, repo: RepoPath, at: { branch: string } | { commit: string }): Promise<RepositoryArchive> {
  const commit =
    'commit' in at
      ? at.commit
      : (await http.request<{ commit: { sha: string } }>('read default branch', `${repoApi(repo)}/branches/${encodeURIComponent(at.branch)}`)).commit.sha;
  const gzipped = await http.stream('download archive', `${repoApi(repo)}/tarball/${encodeURIComponent(commit)}`);
  return { baseCommit: commit, tar: normalizeArchive(gzipped) };
}

/** A file's text at `ref`; null when there is no such file (or it is a folder). */
export async function readGitHubFile(http: GitHubHttp, repo: RepoPath, path: string, ref: string): Promise<string | null> {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const file = await http.find<{ type?: string; encoding?: string; content?: string }>('read file', `${repoApi(repo)}/contents/${encodedPath}`, {
    query: { ref },
  });
  if (!file || Array.isArray(file) || file.type !== 'file') return null;
  if (file.encoding !== 'base64' || file.content === undefined) {
    // Over 1 MB the contents API sends no content; treating that as "no file" would hide it.
    throw new UserzError('forge_file_too_large', 'The file is too large to read through the GitHub contents API', { details: { path } });
  }
  return Buffer.from(file.content, 'base64').toString('utf8');
}

/** `branch`'s head commit with its message (the branches API carries the commit); null when the branch does not exist. */
export async function readGitHubBranchHead(http: GitHubHttp, repo: RepoPath, branch: string): Promise<BranchHead | null> {
  const path = `${repoApi(repo)}/branches/${encodeURIComponent(branch)}`;
  const head = await http.find<{ commit?: { sha?: unknown; commit?: { message?: unknown } } }>('read branch head', path);
  if (!head) return null;
  const sha = head.commit?.sha;
  const message = head.commit?.commit?.message ?? '';
  if (typeof sha !== 'string' || typeof message !== 'string') throw new UserzError('forge_bad_answer', 'GitHub answered a branch without its head commit');
  return { sha, message };
}
