-- Issue 18: setup's egress ledger, follow-up runs from review, the one progress comment
-- per PR/MR, and the reporter's merge/close notices.

-- One row per connection attempt through setup's egress proxy (src/sandbox/egress/).
CREATE TABLE egress_connections (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  run_id      text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  host        text NOT NULL,
  port        integer NOT NULL,
  address     text,
  allowed     boolean NOT NULL,
  reason      text NOT NULL,
  bytes_up    bigint NOT NULL DEFAULT 0,
  bytes_down  bigint NOT NULL DEFAULT 0,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX egress_connections_run_idx ON egress_connections (run_id, started_at, id);

-- One row per review event that asked for a follow-up (a review requesting changes, a
-- `/userz` comment or MR note), whatever was decided. source_run_id is the run whose
-- draft it was on; followup_run_id the run it started (decision 'started').
CREATE TABLE followup_requests (
  id               text PRIMARY KEY,
  org_id           text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  source_run_id    text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  forge            text NOT NULL,
  delivery_id      text NOT NULL,
  trigger          text NOT NULL,
  author           text NOT NULL,
  permission       text,
  decision         text NOT NULL,
  feedback         text,
  followup_run_id  text REFERENCES runs(id) ON DELETE SET NULL,
  -- The follow-up run of a queued request (pipeline/followup-run.ts): running, then pushed
  -- or failed with its reason, and the commit it pushed onto the draft's branch.
  outcome          text,
  outcome_reason   text,
  commit_sha       text,
  finished_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (forge, delivery_id)
);
CREATE INDEX followup_requests_source_idx ON followup_requests (source_run_id, created_at, id);

-- The one comment Userz keeps updated on a draft (queued, running, checks, done/failed).
CREATE TABLE progress_comments (
  source_run_id  text PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  comment_id     text NOT NULL,
  status         text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A reporter told that the draft for their report was merged or closed: once per report and outcome.
CREATE TABLE reporter_notices (
  report_id   text NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  run_id      text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  outcome     text NOT NULL,
  sent_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (report_id, outcome)
);
