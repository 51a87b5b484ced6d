/**
 * The error codes runner/ raises: a closed set, so a code that is not listed is a type error.
 * The agent runner: its protocol with the host and its tools.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const RUNNER_ERROR_CODES = [
  'protocol_host_closed',
  'protocol_line_too_long',
  'protocol_malformed',
  'protocol_unexpected',
  'protocol_version_mismatch',
  'tool_bad_pattern',
  'tool_content_too_large',
  'tool_edit_ambiguous',
  'tool_edit_no_match',
  'tool_git_refused',
  'tool_not_a_directory',
  'tool_not_a_file',
  'tool_not_found',
  'tool_path_changed',
  'tool_path_refused',
  'tool_search_failed',
  'tool_search_timeout',
] as const;
export type RunnerErrorCode = (typeof RUNNER_ERROR_CODES)[number];
