/**
 * The change set as Git Data API objects: blobs (base64, so binary files survive), one tree
 * on top of the base commit's tree, one commit whose parent is the base commit.
 */
import { UserzError } from '../../errors.js';
import { FILE_MODE, type ChangeSet, type ChangeSetEntry } from '../../guardrail/index.js';
import type { GitHubHttp } from './http.js';

export interface RepoPath {
  owner: string;
  name: string;
}

interface TreeEntry {
  path: string;
  mode: string;
  type: 'blob';
  sha: string | null;
}

const BLOB_MODES = new Set<string>([FILE_MODE.file, FILE_MODE.executable, FILE_MODE.symlink]);
const BLOB_CONCURRENCY = 4;

export const repoApi = (repo: RepoPath): string => `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;

function blobMode(mode: string | undefined, path: string): string {
  if (mode && BLOB_MODES.has(mode)) return mode;
  throw new UserzError('forge_unsupported_change', 'The change set has an entry the Git Data API cannot express', { details: { path, mode } });
}

async function writeBlob(http: GitHubHttp, repo: RepoPath, content: Buffer): Promise<string> {
  const blob = await http.request<{ sha: string }>('create blob', `${repoApi(repo)}/git/blobs`, {
    method: 'POST',
    body: { content: content.toString('base64'), encoding: 'base64' },
  });
  return blob.sha;
}

/** Blobs for every entry with content, a few at a time, in change-set order. */
async function writeBlobs(http: GitHubHttp, repo: RepoPath, entries: ChangeSetEntry[]): Promise<Map<ChangeSetEntry, string>> {
  const withContent = entries.filter((e) => e.status !== 'deleted');
  const shas = new Map<ChangeSetEntry, string>();
  for (let i = 0; i < withContent.length; i += BLOB_CONCURRENCY) {
    const chunk = withContent.slice(i, i + BLOB_CONCURRENCY);
    const written = await Promise.all(chunk.map((e) => writeBlob(http, repo, e.content ?? Buffer.alloc(0))));
    chunk.forEach((e, j) => shas.set(e, written[j]!));
  }
  return shas;
}

/** Deletes are `sha: null`; a rename is the old path deleted plus the new path added. */
export function treeEntries(entries: ChangeSetEntry[], blobShas: Map<ChangeSetEntry, string>): TreeEntry[] {
  const tree: TreeEntry[] = [];
  for (const e of entries) {
    if (e.status === 'deleted') {
      tree.push({ path: e.path, mode: blobMode(e.mode, e.path), type: 'blob', sha: null });
      continue;
    }
    if (e.status === 'renamed') {
      if (!e.oldPath) throw new UserzError('forge_unsupported_change', 'A rename has no old path', { details: { path: e.path } });
      tree.push({ path: e.oldPath, mode: blobMode(e.oldMode ?? e.mode, e.oldPath), type: 'blob', sha: null });
    }
    tree.push({ path: e.path, mode: blobMode(e.mode, e.path), type: 'blob', sha: blobShas.get(e)! });
  }
  return tree;
}

export async function writeTree(http: GitHubHttp, repo: RepoPath, changeSet: ChangeSet): Promise<string> {
  if (changeSet.entries.length === 0) {
    throw new UserzError('forge_empty_change', 'There is nothing to deliver');
  }
  // Validate every mode before writing anything.
  treeEntries(changeSet.entries, new Map());
  const base = await http.request<{ tree: { sha: string } }>('read base commit', `${repoApi(repo)}/git/commits/${changeSet.baseCommit}`);
  const shas = await writeBlobs(http, repo, changeSet.entries);
  const tree = await http.request<{ sha: string }>('create tree', `${repoApi(repo)}/git/trees`, {
    method: 'POST',
    body: { base_tree: base.tree.sha, tree: treeEntries(changeSet.entries, shas) },
  });
  return tree.sha;
}

export async function writeCommit(http: GitHubHttp, repo: RepoPath, input: { tree: string; parent: string; message: string }): Promise<string> {
  const commit = await http.request<{ sha: string }>('create commit', `${repoApi(repo)}/git/commits`, {
    method: 'POST',
    body: { message: input.message, tree: input.tree, parents: [input.parent] },
  });
  return commit.sha;
}
