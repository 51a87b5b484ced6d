/**
 * The error codes sandbox/ raises: a closed set, so a code that is not listed is a type error.
 * The sandbox driver.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const SANDBOX_ERROR_CODES = [
  'sandbox_unavailable',
  'sandbox_build_failed',
  'sandbox_already_loaded',
  'sandbox_no_repository',
  'sandbox_load_failed',
  'sandbox_destroyed',
  'sandbox_lost',
  'sandbox_timeout',
  'sandbox_exec_failed',
  'sandbox_output_too_large',
  'sandbox_processes_survived',
  'sandbox_read_failed',
  'changeset_too_large',
  'invalid_argument',
] as const;
export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];
