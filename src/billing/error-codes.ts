/**
 * The error codes billing/ raises (model settings, the spend ledger, holds and caps, Stripe): a closed set.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const BILLING_ERROR_CODES = [
  'budget_exhausted',
  'plan_unknown',
  'model_key_rejected',
  'model_unknown',
  'model_endpoint_unreachable',
  'model_check_failed',
  'model_key_required',
  'model_settings_invalid',
  'caps_invalid',
] as const;
export type BillingErrorCode = (typeof BILLING_ERROR_CODES)[number];
