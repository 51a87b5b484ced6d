import { UserzError } from '../errors.js';
import { recordAudit, upsertOrgPlan, wakeBudgetWaiters, type Queryable } from '../store/index.js';

/**
 * Plans and what they allow per calendar month (UTC). Stripe (webhooks/) sets an org's
 * plan through setOrgPlan; explicit caps an admin sets (PUT /api/v1/caps) override these.
 */
export const PLAN_NAMES = ['free', 'pro', 'team'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface PlanLimits {
  monthlyCostCapUsd: number;
  monthlyTokenCap: number;
}

export const PLANS: Readonly<Record<PlanName, PlanLimits>> = {
  free: { monthlyCostCapUsd: 10, monthlyTokenCap: 5_000_000 },
  pro: { monthlyCostCapUsd: 200, monthlyTokenCap: 100_000_000 },
  team: { monthlyCostCapUsd: 1_000, monthlyTokenCap: 500_000_000 },
};

export const DEFAULT_PLAN: PlanName = 'free';

export function isPlanName(v: string): v is PlanName {
  return (PLAN_NAMES as readonly string[]).includes(v);
}

/**
 * Puts an org on a plan; its monthly caps follow the plan unless an admin set explicit
 * ones. `source` says who decided (`stripe:<event id>`, `api_key:<id>`, `operator`), for the audit log.
 * Pass a transaction to make it atomic with the caller's own writes (Stripe's event de-duplication).
 */
export async function setOrgPlan(db: Queryable, orgId: string, plan: string, source: string): Promise<{ plan: PlanName; limits: PlanLimits }> {
  if (!isPlanName(plan)) throw new UserzError('plan_unknown', `Unknown plan (one of ${PLAN_NAMES.join(', ')})`);
  await upsertOrgPlan(db, orgId, plan, source.slice(0, 200));
  await recordAudit(db, { actor: source.slice(0, 200), action: 'org.plan', orgId, subject: orgId, data: { plan } });
  // A plan with a higher cap may fit runs that were waiting for budget.
  await wakeBudgetWaiters(db, orgId);
  return { plan, limits: PLANS[plan] };
}
