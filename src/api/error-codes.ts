/**
 * The error codes api/ raises: a closed set, so a code that is not listed is a type error.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const API_ERROR_CODES = ['api_key_not_found', 'batch_not_found', 'audit_event_not_found'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
