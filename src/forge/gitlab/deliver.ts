/**
 * Delivery on GitLab: one commit with `actions[]` on `userz/<run-id>` started from the base
 * commit, then a `Draft:` merge request. Safe to retry like GitHub's: an MR for the branch
 * is returned as it is; an existing branch is reused only when its tip is our commit (one
 * commit on the base, carrying our `Userz-Run` trailer).
 */
import { UserzError } from '../../errors.js';
import { FILE_MODE, type ChangeSetEntry } from '../../guardrail/index.js';
import { branchForRun } from '../branch.js';
import { isForgeCode } from '../errors.js';
import type { BranchCommitInput, DeliveryInput, DraftDelivery } from '../interface.js';
import { commitTrailers, renderCommitMessage, renderPrBody, renderPrTitle } from '../pr-body.js';
import { branchHead } from './archive.js';
import type { GitLabApi } from './client.js';
import { field, isNumber, isString, type Json } from './project.js';

interface CommitAction {
  action: 'create' | 'update' | 'delete' | 'move';
  filePath: string;
  previousPath?: string;
  content?: string;
  encoding?: 'base64';
  executeFilemode?: boolean;
}

const COMMIT_SHA = /^[0-9a-f]{40}$/;

function unsupported(entry: ChangeSetEntry): UserzError {
  return new UserzError('forge_unsupported_change', 'The change set has an entry the GitLab commits API cannot express', {
    details: { path: entry.path, mode: entry.mode },
  });
}

/** GitLab's commits API writes regular and executable files only: symlinks and submodules are refused. */
export function commitActions(entries: ChangeSetEntry[]): CommitAction[] {
  return entries.map((e): CommitAction => {
    if (e.status === 'deleted') return { action: 'delete', filePath: e.path };
    if (e.mode !== FILE_MODE.file && e.mode !== FILE_MODE.executable) throw unsupported(e);
    const content = {
      content: (e.content ?? Buffer.alloc(0)).toString('base64'),
      encoding: 'base64' as const,
      executeFilemode: e.mode === FILE_MODE.executable,
    };
    if (e.status === 'renamed') {
      if (!e.oldPath) throw unsupported(e);
      return { action: 'move', filePath: e.path, previousPath: e.oldPath, ...content };
    }
    return { action: e.status === 'added' ? 'create' : 'update', filePath: e.path, ...content };
  });
}

async function findMergeRequest(api: GitLabApi, projectId: number, branch: string): Promise<Json | null> {
  const found = (await api.MergeRequests.all({ projectId, sourceBranch: branch, state: 'all', perPage: 5, maxPages: 1 } as never)) as unknown as Json[];
  return found[0] ?? null;
}

/** true when the branch exists and is ours; throws when it exists with someone else's commit. */
async function branchIsOurs(api: GitLabApi, projectId: number, branch: string, runId: string, baseCommit: string): Promise<boolean> {
  const tip = await branchHead(api, projectId, branch);
  if (!tip) return false;
  const commit = (await api.Commits.show(projectId, tip)) as unknown as Json;
  const parents = commit.parent_ids;
  const message = typeof commit.message === 'string' ? commit.message : '';
  const ours = Array.isArray(parents) && parents.length === 1 && parents[0] === baseCommit && commitTrailers(message).runId === runId;
  if (!ours) throw new UserzError('forge_conflict', 'The run branch already exists with different content', { details: { branch } });
  return true;
}

async function pushBranch(api: GitLabApi, projectId: number, branch: string, input: DeliveryInput, title: string): Promise<void> {
  const { baseCommit, entries } = input.changeSet;
  const actions = commitActions(entries);
  if (await branchIsOurs(api, projectId, branch, input.runId, baseCommit)) return;
  try {
    await api.Commits.create(projectId, branch, renderCommitMessage({ runId: input.runId, title, summary: input.description.summary }), actions, {
      startSha: baseCommit,
    });
  } catch (e) {
    // A retried create whose first try landed answers 400 "branch already exists".
    if (!isForgeCode(e, 'forge_rejected') && !isForgeCode(e, 'forge_conflict')) throw e;
    if (!(await branchIsOurs(api, projectId, branch, input.runId, baseCommit))) throw e;
  }
}

function delivered(mr: Json, branch: string, created: boolean): DraftDelivery {
  return { url: field(mr, 'web_url', isString), number: field(mr, 'iid', isNumber), branch, created };
}

export async function deliverGitLabDraft(api: GitLabApi, project: { id: number; defaultBranch: string }, input: DeliveryInput): Promise<DraftDelivery> {
  const branch = branchForRun(input.runId);
  if (!COMMIT_SHA.test(input.changeSet.baseCommit)) {
    throw new UserzError('forge_unsupported_change', 'The base commit is not a full commit id');
  }
  if (input.changeSet.entries.length === 0) throw new UserzError('forge_empty_change', 'There is nothing to deliver');
  const earlier = await findMergeRequest(api, project.id, branch);
  if (earlier) return delivered(earlier, branch, false);

  const title = renderPrTitle(input.description.title);
  await pushBranch(api, project.id, branch, input, title);
  const description = renderPrBody({ runId: input.runId, description: input.description, entries: input.changeSet.entries });
  try {
    const mr = (await api.MergeRequests.create(project.id, branch, project.defaultBranch, `Draft: ${title}`, {
      description,
      removeSourceBranch: true,
    })) as unknown as Json;
    return delivered(mr, branch, true);
  } catch (e) {
    // 409 "Another open merge request already exists for this source branch".
    const landed = isForgeCode(e, 'forge_conflict') ? await findMergeRequest(api, project.id, branch) : null;
    if (!landed) throw e;
    return delivered(landed, branch, false);
  }
}

/**
 * A follow-up's commit on the draft's branch through the commits API. The branch head is
 * read first and must still be the change's base: a branch someone moved is refused, not
 * overwritten.
 */
export async function pushGitLabCommit(api: GitLabApi, projectId: number, input: BranchCommitInput): Promise<string> {
  const { baseCommit, entries } = input.changeSet;
  if (!COMMIT_SHA.test(baseCommit)) throw new UserzError('forge_unsupported_change', 'The branch head is not a full commit id');
  const actions = commitActions(entries);
  const head = await branchHead(api, projectId, input.branch);
  if (head !== baseCommit) throw new UserzError('forge_conflict', 'The branch moved since the follow-up started', { details: { branch: input.branch } });
  const created = (await api.Commits.create(projectId, input.branch, input.message, actions)) as unknown as Json;
  return field(created, 'id', isString);
}
