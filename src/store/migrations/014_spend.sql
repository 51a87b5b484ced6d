-- Spend (issue 19): each org's plan and caps, its own model settings (the key is a vault
-- secret of kind ai_key, only its id is here), one ledger row per model call, and the
-- holds runs place on their org's calendar month (UTC) before they start.

-- One row per org that has a plan or caps. plan NULL: no plan (monthly caps only where set).
-- The monthly_* and run_* columns, when set, override what the plan gives.
CREATE TABLE org_budgets (
  org_id                text PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  plan                  text,
  plan_source           text,
  monthly_cost_cap_usd  numeric(14, 6),
  monthly_token_cap     bigint,
  run_cost_cap_usd      numeric(14, 6),
  run_token_cap         bigint,
  -- Per-org price overrides: {"model": {"inputPerMTok", "outputPerMTok", "cachedInputPerMTok"?}}.
  prices                jsonb,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_model_settings (
  org_id            text PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  provider          text NOT NULL,
  base_url          text,
  agent_model       text NOT NULL,
  classifier_model  text NOT NULL,
  secret_id         text REFERENCES secrets(id) ON DELETE SET NULL,
  checked_at        timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per model call. run_id is set for agent calls, report_id for the classifier's.
CREATE TABLE spend_ledger (
  id             bigserial PRIMARY KEY,
  org_id         text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  run_id         text REFERENCES runs(id) ON DELETE SET NULL,
  report_id      text REFERENCES reports(id) ON DELETE SET NULL,
  purpose        text NOT NULL,
  provider       text NOT NULL,
  model          text NOT NULL,
  input_tokens   bigint NOT NULL,
  output_tokens  bigint NOT NULL,
  cached_tokens  bigint NOT NULL DEFAULT 0,
  cost_usd       numeric(14, 6) NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spend_ledger_org_month_idx ON spend_ledger (org_id, created_at);
CREATE INDEX spend_ledger_run_idx ON spend_ledger (run_id) WHERE run_id IS NOT NULL;

-- A run's hold on its org's month: one per run (placed once, however often the run
-- resumes). Live while unsettled and either expires_at is ahead or the run's job holds a
-- lease: a hold left by a dead run lapses with its lease. Settling records what was spent.
CREATE TABLE spend_holds (
  run_id      text PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  month       date NOT NULL,
  cost_usd    numeric(14, 6) NOT NULL,
  tokens      bigint NOT NULL,
  expires_at  timestamptz NOT NULL,
  settled_at  timestamptz,
  settled_cost_usd  numeric(14, 6),
  settled_tokens    bigint,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spend_holds_live_idx ON spend_holds (org_id, month) WHERE settled_at IS NULL;
