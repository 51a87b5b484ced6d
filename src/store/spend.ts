import type { Queryable } from './db/interface.js';

/**
 * The spend rows (014_spend.sql): org budgets (plan and explicit caps), per-org model
 * settings, the ledger and the monthly holds. Rows in, rows out; plans, prices and the
 * hold decisions stay in billing/.
 */
export interface OrgBudgetRow {
  orgId: string;
  plan: string;
  planSource: string;
  monthlyCostCapUsd: number | null;
  monthlyTokenCap: number | null;
  runCostCapUsd: number | null;
  runTokenCap: number | null;
  prices: Record<string, unknown> | null;
  updatedAt: Date;
}

type BudgetRow = {
  org_id: string;
  plan: string;
  plan_source: string;
  monthly_cost_cap_usd: string | null;
  monthly_token_cap: string | null;
  run_cost_cap_usd: string | null;
  run_token_cap: string | null;
  prices: Record<string, unknown> | null;
  updated_at: Date;
};

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

const toBudget = (r: BudgetRow): OrgBudgetRow => ({
  orgId: r.org_id,
  plan: r.plan,
  planSource: r.plan_source,
  monthlyCostCapUsd: num(r.monthly_cost_cap_usd),
  monthlyTokenCap: num(r.monthly_token_cap),
  runCostCapUsd: num(r.run_cost_cap_usd),
  runTokenCap: num(r.run_token_cap),
  prices: r.prices,
  updatedAt: r.updated_at,
});

const BUDGET_COLUMNS = 'org_id, plan, plan_source, monthly_cost_cap_usd, monthly_token_cap, run_cost_cap_usd, run_token_cap, prices, updated_at';

export async function getOrgBudget(db: Queryable, orgId: string): Promise<OrgBudgetRow | null> {
  const [row] = await db.query<BudgetRow>(`SELECT ${BUDGET_COLUMNS} FROM org_budgets WHERE org_id = $1`, [orgId]);
  return row ? toBudget(row) : null;
}

/** Sets the org's plan (creating its budget row); explicit caps are kept. */
export async function upsertOrgPlan(db: Queryable, orgId: string, plan: string, source: string): Promise<OrgBudgetRow> {
  const [row] = await db.query<BudgetRow>(
    `INSERT INTO org_budgets (org_id, plan, plan_source) VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET plan = EXCLUDED.plan, plan_source = EXCLUDED.plan_source, updated_at = now()
     RETURNING ${BUDGET_COLUMNS}`,
    [orgId, plan, source],
  );
  return toBudget(row!);
}
