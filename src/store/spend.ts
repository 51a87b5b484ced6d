import type { Queryable } from './db/interface.js';
import { WOKEN_IN_FLIGHT } from './jobs.js';

/**
 * The spend rows (014_spend.sql): org budgets (plan and explicit caps), per-org model
 * settings, the ledger and the monthly holds. Rows in, rows out; plans, prices and the
 * hold decisions stay in billing/.
 */
export interface OrgBudgetRow {
  orgId: string;
  plan: string | null;
  planSource: string | null;
  monthlyCostCapUsd: number | null;
  monthlyTokenCap: number | null;
  runCostCapUsd: number | null;
  runTokenCap: number | null;
  prices: Record<string, unknown> | null;
  updatedAt: Date;
}

type BudgetRow = {
  org_id: string;
  plan: string | null;
  plan_source: string | null;
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

export interface CapsPatch {
  monthlyCostCapUsd?: number | null;
  monthlyTokenCap?: number | null;
  runCostCapUsd?: number | null;
  runTokenCap?: number | null;
  prices?: Record<string, unknown> | null;
}

const CAP_COLUMNS: Record<keyof CapsPatch, string> = {
  monthlyCostCapUsd: 'monthly_cost_cap_usd',
  monthlyTokenCap: 'monthly_token_cap',
  runCostCapUsd: 'run_cost_cap_usd',
  runTokenCap: 'run_token_cap',
  prices: 'prices',
};

/** Sets the given caps (null clears one back to the plan's); fields left out keep their value. */
export async function upsertOrgCaps(db: Queryable, orgId: string, patch: CapsPatch): Promise<OrgBudgetRow> {
  await db.query('INSERT INTO org_budgets (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING', [orgId]);
  const keys = (Object.keys(CAP_COLUMNS) as Array<keyof CapsPatch>).filter((k) => patch[k] !== undefined);
  const sets = keys.map((k, i) => `${CAP_COLUMNS[k]} = $${i + 2}`);
  const params = keys.map((k) => (k === 'prices' && patch.prices ? JSON.stringify(patch.prices) : patch[k]));
  const [row] = await db.query<BudgetRow>(
    `UPDATE org_budgets SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE org_id = $1 RETURNING ${BUDGET_COLUMNS}`,
    [orgId, ...params],
  );
  return toBudget(row!);
}

/**
 * Locks the org's budget row (creating it) for the rest of the transaction: every hold
 * placement of the org goes through this lock, so concurrent starts are decided one by one.
 */
export async function lockOrgBudget(tx: Queryable, orgId: string): Promise<OrgBudgetRow> {
  await tx.query('INSERT INTO org_budgets (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING', [orgId]);
  const [row] = await tx.query<BudgetRow>(`SELECT ${BUDGET_COLUMNS} FROM org_budgets WHERE org_id = $1 FOR UPDATE`, [orgId]);
  return toBudget(row!);
}

// ---- model settings ----

export interface ModelSettingsRow {
  orgId: string;
  provider: string;
  baseUrl: string | null;
  agentModel: string;
  classifierModel: string;
  secretId: string | null;
  checkedAt: Date | null;
  updatedAt: Date;
}

type SettingsRow = {
  org_id: string;
  provider: string;
  base_url: string | null;
  agent_model: string;
  classifier_model: string;
  secret_id: string | null;
  checked_at: Date | null;
  updated_at: Date;
};

const SETTINGS_COLUMNS = 'org_id, provider, base_url, agent_model, classifier_model, secret_id, checked_at, updated_at';

const toSettings = (r: SettingsRow): ModelSettingsRow => ({
  orgId: r.org_id,
  provider: r.provider,
  baseUrl: r.base_url,
  agentModel: r.agent_model,
  classifierModel: r.classifier_model,
  secretId: r.secret_id,
  checkedAt: r.checked_at,
  updatedAt: new Date(r.updated_at),
});

export async function getModelSettingsRow(db: Queryable, orgId: string): Promise<ModelSettingsRow | null> {
  const [row] = await db.query<SettingsRow>(`SELECT ${SETTINGS_COLUMNS} FROM org_model_settings WHERE org_id = $1`, [orgId]);
  return row ? toSettings(row) : null;
}

/** Writes the org's settings; returns the secret id it replaced (for the caller to delete), if any. */
export async function upsertModelSettingsRow(
  db: Queryable,
  row: Omit<ModelSettingsRow, 'updatedAt' | 'checkedAt'> & { checked: boolean },
): Promise<{ settings: ModelSettingsRow; replacedSecretId: string | null }> {
  const [old] = await db.query<{ secret_id: string | null }>('SELECT secret_id FROM org_model_settings WHERE org_id = $1 FOR UPDATE', [row.orgId]);
  const [saved] = await db.query<SettingsRow>(
    `INSERT INTO org_model_settings (org_id, provider, base_url, agent_model, classifier_model, secret_id, checked_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::boolean THEN now() END)
     ON CONFLICT (org_id) DO UPDATE SET provider = EXCLUDED.provider, base_url = EXCLUDED.base_url, agent_model = EXCLUDED.agent_model,
       classifier_model = EXCLUDED.classifier_model, secret_id = EXCLUDED.secret_id,
       checked_at = CASE WHEN $7::boolean THEN now() ELSE org_model_settings.checked_at END, updated_at = clock_timestamp()
     RETURNING ${SETTINGS_COLUMNS}`,
    [row.orgId, row.provider, row.baseUrl, row.agentModel, row.classifierModel, row.secretId, row.checked],
  );
  const replaced = old?.secret_id && old.secret_id !== row.secretId ? old.secret_id : null;
  return { settings: toSettings(saved!), replacedSecretId: replaced };
}

export async function deleteModelSettingsRow(db: Queryable, orgId: string): Promise<string | null> {
  const [row] = await db.query<{ secret_id: string | null }>('DELETE FROM org_model_settings WHERE org_id = $1 RETURNING secret_id', [orgId]);
  return row?.secret_id ?? null;
}

export async function deleteSecretRow(db: Queryable, orgId: string, secretId: string): Promise<void> {
  await db.query('DELETE FROM secrets WHERE id = $1 AND org_id = $2', [secretId, orgId]);
}

// ---- ledger ----

export interface LedgerEntry {
  orgId: string;
  runId: string | null;
  reportId: string | null;
  purpose: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
}

export async function insertLedgerEntry(db: Queryable, e: LedgerEntry): Promise<void> {
  await db.query(
    `INSERT INTO spend_ledger (org_id, run_id, report_id, purpose, provider, model, input_tokens, output_tokens, cached_tokens, cost_usd)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [e.orgId, e.runId, e.reportId, e.purpose, e.provider, e.model, e.inputTokens, e.outputTokens, e.cachedTokens, e.costUsd],
  );
}

export interface SpendTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
}

type TotalsRow = { calls: string; input_tokens: string; output_tokens: string; cached_tokens: string; cost_usd: string };
const TOTALS = `count(*) AS calls, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cached_tokens), 0) AS cached_tokens, coalesce(sum(cost_usd), 0) AS cost_usd`;
const toTotals = (r: TotalsRow | undefined): SpendTotals => ({
  calls: Number(r?.calls ?? 0),
  inputTokens: Number(r?.input_tokens ?? 0),
  outputTokens: Number(r?.output_tokens ?? 0),
  cachedTokens: Number(r?.cached_tokens ?? 0),
  costUsd: Number(r?.cost_usd ?? 0),
});

/** Tokens and cost of one run's model calls (the run page). */
export async function runSpendTotals(db: Queryable, orgId: string, runId: string): Promise<SpendTotals> {
  const [row] = await db.query<TotalsRow>(`SELECT ${TOTALS} FROM spend_ledger WHERE org_id = $1 AND run_id = $2`, [orgId, runId]);
  return toTotals(row);
}

/** The org's ledger between two instants ([from, to)), e.g. a calendar month. */
export async function orgSpendTotals(db: Queryable, orgId: string, from: Date, to: Date): Promise<SpendTotals> {
  const [row] = await db.query<TotalsRow>(`SELECT ${TOTALS} FROM spend_ledger WHERE org_id = $1 AND created_at >= $2 AND created_at < $3`, [orgId, from, to]);
  return toTotals(row);
}

/** The same, per purpose (agent, classifier, key check). */
export async function orgSpendByPurpose(db: Queryable, orgId: string, from: Date, to: Date): Promise<Array<SpendTotals & { purpose: string }>> {
  const rows = await db.query<TotalsRow & { purpose: string }>(
    `SELECT purpose, ${TOTALS} FROM spend_ledger WHERE org_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY purpose ORDER BY purpose`,
    [orgId, from, to],
  );
  return rows.map((r) => ({ purpose: r.purpose, ...toTotals(r) }));
}

// ---- holds ----

export interface HoldRow {
  runId: string;
  orgId: string;
  month: string;
  costUsd: number;
  tokens: number;
  expiresAt: Date;
  settledAt: Date | null;
}

type HoldDbRow = { run_id: string; org_id: string; month: string | Date; cost_usd: string; tokens: string; expires_at: Date; settled_at: Date | null };
const toHold = (r: HoldDbRow): HoldRow => ({
  runId: r.run_id,
  orgId: r.org_id,
  month: typeof r.month === 'string' ? r.month.slice(0, 10) : r.month.toISOString().slice(0, 10),
  costUsd: Number(r.cost_usd),
  tokens: Number(r.tokens),
  expiresAt: r.expires_at,
  settledAt: r.settled_at,
});

export async function getHold(db: Queryable, runId: string): Promise<HoldRow | null> {
  const [row] = await db.query<HoldDbRow>(
    "SELECT run_id, org_id, to_char(month, 'YYYY-MM-DD') AS month, cost_usd, tokens, expires_at, settled_at FROM spend_holds WHERE run_id = $1",
    [runId],
  );
  return row ? toHold(row) : null;
}

/**
 * Places (or, for a run whose hold was settled, re-opens) the run's hold. A re-opened hold
 * counts the run's spend from now on (opened_at); a lapsed open hold placed again keeps its
 * opening, so its earlier attempts' spend still counts against it.
 */
export async function upsertHold(
  db: Queryable,
  h: { runId: string; orgId: string; month: string; costUsd: number; tokens: number; ttlMs: number },
): Promise<void> {
  await db.query(
    `INSERT INTO spend_holds (run_id, org_id, month, cost_usd, tokens, expires_at)
     VALUES ($1, $2, $3::date, $4, $5, now() + ($6::bigint * interval '1 millisecond'))
     ON CONFLICT (run_id) DO UPDATE SET month = EXCLUDED.month, cost_usd = EXCLUDED.cost_usd, tokens = EXCLUDED.tokens,
       expires_at = EXCLUDED.expires_at, opened_at = CASE WHEN spend_holds.settled_at IS NULL THEN spend_holds.opened_at ELSE now() END,
       settled_at = NULL, settled_cost_usd = NULL, settled_tokens = NULL`,
    [h.runId, h.orgId, h.month, h.costUsd, h.tokens, String(h.ttlMs)],
  );
}

/** What the run spent under its hold: its ledger rows since the hold was (re)opened (a follow-up's hold does not count the first run's spend). */
export async function holdSpendTotals(db: Queryable, orgId: string, runId: string): Promise<SpendTotals> {
  const [row] = await db.query<TotalsRow>(
    `SELECT ${TOTALS} FROM spend_ledger
      WHERE org_id = $1 AND run_id = $2 AND created_at >= (SELECT opened_at FROM spend_holds WHERE run_id = $2)`,
    [orgId, runId],
  );
  return toTotals(row);
}

/**
 * Pushes an open hold's expiry forward if it has not lapsed (a resumed run keeps its one
 * hold). False when it lapsed: while its run waited without a lease (a retry's backoff, a
 * dead worker) other runs may have taken its reserve, so it must fit again.
 */
export async function extendHold(db: Queryable, runId: string, ttlMs: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE spend_holds SET expires_at = greatest(expires_at, now() + ($2::bigint * interval '1 millisecond'))
      WHERE run_id = $1 AND settled_at IS NULL AND expires_at > now() RETURNING 1`,
    [runId, String(ttlMs)],
  );
  return rows.length === 1;
}

/**
 * What the org's live holds of a month still reserve beyond what their runs already spent
 * under them (that spend is in the ledger): per hold, max(hold − spent since it opened, 0).
 * A hold is live while unsettled and either within its expiry or its run's job (or a
 * follow-up job of the run) holds a lease.
 */
export async function liveHoldReserve(
  db: Queryable,
  orgId: string,
  month: string,
  exceptRunId: string | null,
): Promise<{ costUsd: number; tokens: number; holds: number }> {
  const [row] = await db.query<{ cost_usd: string; tokens: string; holds: string }>(
    `SELECT coalesce(sum(greatest(h.cost_usd - coalesce(l.cost, 0), 0)), 0) AS cost_usd,
            coalesce(sum(greatest(h.tokens - coalesce(l.tokens, 0), 0)), 0) AS tokens,
            count(*) AS holds
       FROM spend_holds h
       LEFT JOIN LATERAL (SELECT sum(cost_usd) AS cost, sum(input_tokens + output_tokens) AS tokens FROM spend_ledger
                           WHERE run_id = h.run_id AND created_at >= h.opened_at) l ON true
      WHERE h.org_id = $1 AND h.month = $2::date AND h.settled_at IS NULL AND ($3::text IS NULL OR h.run_id <> $3)
        AND (h.expires_at > now()
             OR EXISTS (SELECT 1 FROM jobs j WHERE j.key = 'run:' || h.run_id AND j.done_at IS NULL AND j.locked_until > now())
             OR EXISTS (SELECT 1 FROM followup_requests f JOIN jobs j ON j.key = 'followup:' || f.id
                         WHERE f.source_run_id = h.run_id AND j.done_at IS NULL AND j.locked_until > now()))`,
    [orgId, month, exceptRunId],
  );
  return { costUsd: Number(row?.cost_usd ?? 0), tokens: Number(row?.tokens ?? 0), holds: Number(row?.holds ?? 0) };
}

/** Settles the run's hold to what its run spent under it (ledger, since it opened); idempotent. Returns whether a hold was open. */
export async function settleHoldRow(db: Queryable, runId: string): Promise<{ orgId: string } | null> {
  const [row] = await db.query<{ org_id: string }>(
    `UPDATE spend_holds h SET settled_at = now(),
        settled_cost_usd = (SELECT coalesce(sum(cost_usd), 0) FROM spend_ledger WHERE run_id = h.run_id AND created_at >= h.opened_at),
        settled_tokens = (SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM spend_ledger WHERE run_id = h.run_id AND created_at >= h.opened_at)
      WHERE run_id = $1 AND settled_at IS NULL RETURNING org_id`,
    [runId],
  );
  return row ? { orgId: row.org_id } : null;
}

/**
 * Runs of the org waiting with `budget_exhausted` (in `triaged`, or resumed in `running`):
 * their deferred jobs are made due now, so they try again (after a cap was raised, the plan
 * changed or another run's hold was settled). A job still in flight (its run decided to
 * wait but the worker has not deferred it yet) is marked instead, and deferJob then makes
 * it due at once: a wake between the run's decision and its defer is not lost.
 */
export async function wakeBudgetWaiters(db: Queryable, orgId: string): Promise<number> {
  const rows = await db.query(
    `UPDATE jobs SET run_at = CASE WHEN locked_until > now() THEN run_at ELSE now() END,
            last_error = CASE WHEN locked_until > now() THEN $2 ELSE last_error END
      WHERE kind = 'run' AND done_at IS NULL AND (run_at > now() OR locked_until > now())
        AND key IN (SELECT 'run:' || id FROM runs WHERE org_id = $1 AND state IN ('triaged', 'running') AND state_reason = 'budget_exhausted')
      RETURNING id`,
    [orgId, WOKEN_IN_FLIGHT],
  );
  return rows.length;
}
