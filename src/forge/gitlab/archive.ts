import { UserzError } from '../../errors.js';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { normalizeArchive } from '../archive.js';
import type { BranchHead, RepositoryArchive } from '../interface.js';
import type { GitLabApi } from './client.js';
import { field, isString, orNull } from './project.js';

export async function branchHead(api: GitLabApi, projectId: number, branch: string): Promise<string | null> {
  return (await branchHeadCommit(api, projectId, branch))?.sha ?? null;
}

/** `branch`'s head commit with its message (the branches API carries the commit); null when the branch does not exist. */
export async function branchHeadCommit(api: GitLabApi, projectId: number, branch: string): Promise<BranchHead | null> {
  const found = await orNull(api.Branches.show(projectId, branch));
  if (!found) return null;
  const commit = field(found, 'commit', (v): v is object => typeof v === 'object' && v !== null);
  const message = (commit as { message?: unknown }).message ?? '';
  if (typeof message !== 'string') throw new UserzError('forge_bad_answer', 'GitLab answered a branch whose head commit has no message text');
  return { sha: field(commit, 'id', isString), message };
}

/** The archive of exactly one commit: the one given, or the branch's head read first. */
export async function fetchGitLabArchive(api: GitLabApi, projectId: number, at: { branch: string } | { commit: string }): Promise<RepositoryArchive> {
  const baseCommit = 'commit' in at ? at.commit : await branchHead(api, projectId, at.branch);
  if (!baseCommit) throw new UserzError('forge_not_found', 'The default branch does not exist on GitLab');
  const body = (await api.Repositories.showArchive(projectId, { fileType: 'tar.gz', sha: baseCommit, asStream: true })) as unknown;
  return { baseCommit, tar: normalizeArchive(Readable.fromWeb(body as ReadableStream<Uint8Array>)) };
}

export async function readGitLabFile(api: GitLabApi, projectId: number, path: string, ref: string): Promise<string | null> {
  const file = await orNull(api.RepositoryFiles.show(projectId, path, ref));
  if (!file) return null;
  const encoding = field(file, 'encoding', isString);
  const content = field(file, 'content', isString);
  return encoding === 'base64' ? Buffer.from(content, 'base64').toString('utf8') : content;
}
