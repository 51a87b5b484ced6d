/** Public face of billing: plans, model settings and per-org model clients, prices, the spend ledger, holds and caps. */
export { PLANS, setOrgPlan } from './plans.js';
export { DEFAULT_PRICES, costOf, priceFor, type ModelPrice, type PriceTable } from './prices.js';
export {
  deleteModelSettings,
  fixedModels,
  getModelSettings,
  OrgModelResolver,
  saveModelSettings,
  type ModelResolver,
  type ModelSettingsView,
  type OrgModels,
  type SharedModel,
} from './models.js';
export { getRunSpend, getUsage, placeRunHold, runAllowance, runCapsOf, setCaps, settleRunHold, type RunCaps, type Usage } from './spend.js';
export { registerBillingRoutes } from './api.js';
export { registerStripeWebhookRoute } from './stripe.js';
