import { UserzError } from '../errors.js';

/** Run ids become branch names, so they are held to a ref-safe alphabet. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
const PREFIX = 'userz/';

export function branchForRun(runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new UserzError('forge_invalid_run_id', 'Run id is not usable as a branch name');
  }
  return PREFIX + runId;
}

/** The run id of a `userz/<run-id>` branch (or `refs/heads/userz/<run-id>`), else null. */
export function runIdFromBranch(ref: unknown): string | null {
  if (typeof ref !== 'string') return null;
  const name = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
  if (!name.startsWith(PREFIX)) return null;
  const runId = name.slice(PREFIX.length);
  return RUN_ID.test(runId) ? runId : null;
}
