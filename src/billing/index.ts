/** Public face of billing: plans, model settings, the spend ledger, holds and caps. */
export { PLANS, PLAN_NAMES, setOrgPlan, type PlanName, type PlanLimits } from './plans.js';
export { registerStripeWebhookRoute } from './stripe.js';
