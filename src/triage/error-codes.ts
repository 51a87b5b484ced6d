/**
 * The error codes triage/ raises: a closed set, so a code that is not listed is a type error.
 * Triage inputs that cannot be used.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const TRIAGE_ERROR_CODES = ['injection_rules_invalid', 'invalid_nonce'] as const;
export type TriageErrorCode = (typeof TRIAGE_ERROR_CODES)[number];
