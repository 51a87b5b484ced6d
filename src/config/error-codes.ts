/**
 * The error codes config/ raises: a closed set, so a code that is not listed is a type error.
 * Configuration that cannot be used.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const CONFIG_ERROR_CODES = ['config_invalid', 'gitlab_token_missing'] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];
