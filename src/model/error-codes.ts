/**
 * The error codes model/ raises: a closed set, so a code that is not listed is a type error.
 * Model providers.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const MODEL_ERROR_CODES = [
  'model_aborted',
  'model_auth_failed',
  'model_bad_response',
  'model_provider_unknown',
  'model_rate_limited',
  'model_request_rejected',
  'model_script_exhausted',
  'model_timeout',
  'model_unavailable',
  'model_failed',
] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];
