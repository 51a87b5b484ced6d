/**
 * The error codes cli/ raises: a closed set, so a code that is not listed is a type error.
 * The command line: a server that holds the data, or did not answer.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const CLI_ERROR_CODES = ['data_dir_busy', 'server_unreachable', 'server_error'] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];
