/**
 * The error codes ops/ raises: a closed set, so a code that is not listed is a type error.
 * Operator actions (the CLI and the admin endpoint).
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const OPS_ERROR_CODES = ['already_initialized', 'unknown_operation', 'invalid_input', 'repo_in_other_org'] as const;
export type OpsErrorCode = (typeof OPS_ERROR_CODES)[number];
