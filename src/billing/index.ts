/** Public face of billing: plans, model settings and per-org model clients, prices, the spend ledger, holds and caps. */
export { PLANS, PLAN_NAMES, setOrgPlan, type PlanName, type PlanLimits } from './plans.js';
export { DEFAULT_PRICES, costOf, priceFor, type ModelPrice, type PriceTable } from './prices.js';
export {
  deleteModelSettings,
  fixedModels,
  getModelSettings,
  OrgModelResolver,
  saveModelSettings,
  type ModelResolver,
  type ModelSettingsDeps,
  type ModelSettingsInput,
  type ModelSettingsView,
  type OrgModels,
  type SharedModel,
} from './models.js';
export {
  effectiveCaps,
  getRunSpend,
  getUsage,
  placeRunHold,
  runAllowance,
  runCapsOf,
  setCaps,
  settleRunHold,
  type CapsInput,
  type EffectiveCaps,
  type RunCaps,
  type Usage,
} from './spend.js';
export { registerBillingRoutes, type BillingRouteDeps } from './api.js';
export { registerStripeWebhookRoute } from './stripe.js';
