import type { UserzErrorCode } from '../errors.js';
import type { RunState } from '../store/index.js';

/**
 * Run states (DESIGN.md; the list is the store's, store/runs.ts). The state machine in this
 * folder is the only writer of runs.state; every transition is an audit event.
 */
export type { RunState } from '../store/index.js';

export const TERMINAL_STATES: ReadonlySet<RunState> = new Set(['pr_opened', 'pr_failed', 'rejected', 'errored']);

/** Allowed transitions; anything else is a bug and is refused. */
export const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  queued: ['triaged', 'needs_review', 'rejected', 'errored'],
  triaged: ['running', 'needs_review', 'rejected', 'errored'],
  needs_review: ['triaged', 'rejected'],
  running: ['checking', 'errored', 'running'],
  checking: ['pr_opened', 'pr_failed', 'errored'],
  pr_opened: [],
  pr_failed: [],
  rejected: [],
  errored: [],
};

/**
 * Where a run goes when a stage fails for good (not retryable, or its last attempt), by the
 * failure's code: the one place codes become run states. A repository policy that does not
 * parse fails the draft closed (`pr_failed`, as a guardrail rejection does) when the run is
 * being checked; every other code, in any state, is an error of the run.
 */
const FAILED_STATE_BY_CODE: Partial<Record<UserzErrorCode, { from: RunState; to: 'pr_failed' }>> = {
  policy_invalid: { from: 'checking', to: 'pr_failed' },
};

export function failedRunState(from: RunState, code: UserzErrorCode): 'errored' | 'pr_failed' {
  const mapped = FAILED_STATE_BY_CODE[code];
  return mapped && mapped.from === from ? mapped.to : 'errored';
}
