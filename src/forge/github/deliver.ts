/**
 * Delivery on GitHub: commit on `userz/<run-id>`, then a draft PR. Safe to retry: an earlier
 * attempt's PR is returned as it is, and its branch is reused only when it holds exactly our
 * tree on our base commit.
 */
import { UserzError } from '../../errors.js';
import { branchForRun } from '../branch.js';
import { isForgeCode } from '../errors.js';
import type { BranchCommitInput, DeliveryInput, DraftDelivery } from '../interface.js';
import { renderCommitMessage, renderPrBody, renderPrTitle } from '../pr-body.js';
import { repoApi, writeCommit, writeTree, type RepoPath } from './commit.js';
import type { GitHubHttp } from './http.js';

interface PullAnswer {
  number: number;
  html_url: string;
}

const COMMIT_SHA = /^[0-9a-f]{40}$/;

async function findPull(http: GitHubHttp, repo: RepoPath, branch: string): Promise<PullAnswer | null> {
  const pulls = await http.request<PullAnswer[]>('find pull request', `${repoApi(repo)}/pulls`, {
    query: { head: `${repo.owner}:${branch}`, state: 'all' },
  });
  return pulls[0] ?? null;
}

/**
 * The commit at the tip of `branch` when it is ours to reuse; null when the branch does not
 * exist. A branch with other content means someone else wrote there: refuse, do not overwrite.
 */
async function reusableBranchCommit(http: GitHubHttp, repo: RepoPath, branch: string, tree: string, parent: string): Promise<string | null> {
  const ref = await http.find<{ object: { sha: string } }>('read branch', `${repoApi(repo)}/git/ref/heads/${branch}`);
  if (!ref) return null;
  const tip = await http.request<{ tree: { sha: string }; parents: Array<{ sha: string }> }>(
    'read branch commit',
    `${repoApi(repo)}/git/commits/${ref.object.sha}`,
  );
  if (tip.tree.sha === tree && tip.parents.length === 1 && tip.parents[0]!.sha === parent) return ref.object.sha;
  throw new UserzError('forge_conflict', 'The run branch already exists with different content', { details: { branch } });
}

async function pushBranch(http: GitHubHttp, repo: RepoPath, branch: string, input: DeliveryInput, title: string): Promise<void> {
  const { baseCommit } = input.changeSet;
  const tree = await writeTree(http, repo, input.changeSet);
  if (await reusableBranchCommit(http, repo, branch, tree, baseCommit)) return;
  const message = renderCommitMessage({ runId: input.runId, title, summary: input.description.summary });
  const commit = await writeCommit(http, repo, { tree, parent: baseCommit, message });
  try {
    await http.request('create branch', `${repoApi(repo)}/git/refs`, { method: 'POST', body: { ref: `refs/heads/${branch}`, sha: commit } });
  } catch (e) {
    // Another attempt created the ref in between: fine if it holds the same tree.
    if (!isForgeCode(e, 'forge_conflict') || !(await reusableBranchCommit(http, repo, branch, tree, baseCommit))) throw e;
  }
}

export async function deliverGitHubDraft(http: GitHubHttp, repo: RepoPath & { defaultBranch: string }, input: DeliveryInput): Promise<DraftDelivery> {
  const branch = branchForRun(input.runId);
  if (!COMMIT_SHA.test(input.changeSet.baseCommit)) {
    throw new UserzError('forge_unsupported_change', 'The base commit is not a full commit id');
  }
  const earlier = await findPull(http, repo, branch);
  if (earlier) return { url: earlier.html_url, number: earlier.number, branch, created: false };

  const title = renderPrTitle(input.description.title);
  await pushBranch(http, repo, branch, input, title);
  const body = renderPrBody({ runId: input.runId, description: input.description, entries: input.changeSet.entries });
  try {
    const pull = await http.request<PullAnswer>('open draft pull request', `${repoApi(repo)}/pulls`, {
      method: 'POST',
      body: { title, head: branch, base: repo.defaultBranch, body, draft: true },
    });
    return { url: pull.html_url, number: pull.number, branch, created: true };
  } catch (e) {
    // A retried POST whose first try landed answers 422 "already exists".
    const landed = isForgeCode(e, 'forge_conflict') ? await findPull(http, repo, branch) : null;
    if (!landed) throw e;
    return { url: landed.html_url, number: landed.number, branch, created: false };
  }
}

/**
 * A follow-up's commit: the tree on the branch head, a commit whose parent is that head, and
 * the branch moved to it without force, so GitHub refuses (422) if someone pushed meanwhile.
 */
export async function pushGitHubCommit(http: GitHubHttp, repo: RepoPath, input: BranchCommitInput): Promise<string> {
  const { baseCommit } = input.changeSet;
  if (!COMMIT_SHA.test(baseCommit)) throw new UserzError('forge_unsupported_change', 'The branch head is not a full commit id');
  const tree = await writeTree(http, repo, input.changeSet);
  const commit = await writeCommit(http, repo, { tree, parent: baseCommit, message: input.message });
  const ref = input.branch.split('/').map(encodeURIComponent).join('/');
  await http.request('move branch', `${repoApi(repo)}/git/refs/heads/${ref}`, { method: 'PATCH', body: { sha: commit, force: false } });
  return commit;
}
