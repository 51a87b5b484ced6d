/**
 * The error codes billing/ raises (model settings, the spend ledger, holds and caps, Stripe): a closed set.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const BILLING_ERROR_CODES = ['budget_exhausted', 'plan_unknown'] as const;
export type BillingErrorCode = (typeof BILLING_ERROR_CODES)[number];
