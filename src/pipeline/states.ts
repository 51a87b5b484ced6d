/**
 * Run states (DESIGN.md). The state machine in this folder is the only writer of
 * runs.state; every transition is an audit event.
 */
export const RUN_STATES = ['queued', 'triaged', 'running', 'checking', 'pr_opened', 'pr_failed', 'rejected', 'needs_review', 'errored'] as const;
export type RunState = (typeof RUN_STATES)[number];

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
