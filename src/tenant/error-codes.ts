/**
 * The error codes tenant/ raises: a closed set, so a code that is not listed is a type error.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const TENANT_ERROR_CODES = ['insufficient_scope'] as const;
export type TenantErrorCode = (typeof TENANT_ERROR_CODES)[number];
