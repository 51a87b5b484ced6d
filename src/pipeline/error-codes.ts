/**
 * The error codes pipeline/ raises: a closed set, so a code that is not listed is a type error.
 * Jobs and the run state machine.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const PIPELINE_ERROR_CODES = [
  'report_not_found',
  'report_not_held',
  'report_unreadable',
  'run_not_found',
  'bad_transition',
  'batch_empty',
  'changeset_missing',
  'no_model',
  'no_repo_linked',
  'repo_unavailable',
  'sandbox_disabled',
  'tenant_mismatch',
] as const;
export type PipelineErrorCode = (typeof PIPELINE_ERROR_CODES)[number];
