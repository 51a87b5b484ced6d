/**
 * The error codes guardrail/ raises: a closed set, so a code that is not listed is a type error.
 * Rules, limits and repository policies that do not compile.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const GUARDRAIL_ERROR_CODES = ['guardrail_rules_invalid', 'guardrail_limits_invalid', 'policy_invalid'] as const;
export type GuardrailErrorCode = (typeof GUARDRAIL_ERROR_CODES)[number];
