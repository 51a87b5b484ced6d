-- Issue 18: what the repository's own checks said about a run's change, and whether a
-- test the agent added reproduced the report (failed on the base tree, passed after).
-- One row per run, written by the run stage before the run reaches `checking`.
CREATE TABLE IF NOT EXISTS run_checks (
  run_id          text PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  status          text NOT NULL CHECK (status IN ('passed', 'failed', 'not_configured', 'errored')),
  require_passing boolean NOT NULL DEFAULT false,
  -- [{command, exitCode, timedOut, outputTail, durationMs}] of setup and of the final checks
  setup           jsonb NOT NULL DEFAULT '[]',
  commands        jsonb NOT NULL DEFAULT '[]',
  -- how often the agent asked for the checks (run_checks) during its run
  agent_requests  integer NOT NULL DEFAULT 0,
  reproduced      boolean NOT NULL DEFAULT false,
  -- {testPath, before, after, note} or null when no reproducing test was declared
  reproduction    jsonb,
  setup_ms        integer NOT NULL DEFAULT 0,
  checks_ms       integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
