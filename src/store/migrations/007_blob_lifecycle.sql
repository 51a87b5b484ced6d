-- Blob lifecycle: every blob (attachment, run log, stored change set) has a row naming its
-- owner (a report or a run) and its creation time. A recurring job (kind 'lifecycle',
-- src/lifecycle/expire.ts) deletes blobs older than the org's retention unless their
-- report or run is retained, and sets expired_at so readers say "expired" instead of failing.

-- Days a blob is kept (30 by default). Retention is per org; per App and per report/run below.
ALTER TABLE orgs ADD COLUMN blob_retention_days integer NOT NULL DEFAULT 30 CHECK (blob_retention_days BETWEEN 1 AND 3650);
-- The App's default for its reports and runs: true keeps their blobs until unset.
ALTER TABLE apps ADD COLUMN retain_blobs boolean NOT NULL DEFAULT false;
-- Per report / run: true keeps, false lets expire even when the App retains, NULL follows the App.
ALTER TABLE reports ADD COLUMN retained boolean;
ALTER TABLE runs ADD COLUMN retained boolean;

CREATE TABLE blobs (
  key          text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  app_id       text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('attachment', 'run_log', 'changeset')),
  report_id    text REFERENCES reports(id) ON DELETE CASCADE,
  run_id       text REFERENCES runs(id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  expired_at   timestamptz,
  CHECK ((report_id IS NULL) <> (run_id IS NULL))
);
CREATE INDEX blobs_live_idx ON blobs (created_at, key) WHERE expired_at IS NULL;
CREATE INDEX blobs_report_idx ON blobs (report_id) WHERE report_id IS NOT NULL;
CREATE INDEX blobs_run_idx ON blobs (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX blobs_org_idx ON blobs (org_id);

-- Blobs written before this migration get their rows now (the job registers later ones).
INSERT INTO blobs (key, org_id, app_id, kind, report_id, created_at)
SELECT a.value->>'blobKey', r.org_id, r.app_id, 'attachment', r.id, r.created_at
  FROM reports r CROSS JOIN LATERAL jsonb_array_elements(r.attachments) a
 WHERE jsonb_typeof(r.attachments) = 'array' AND a.value->>'blobKey' IS NOT NULL
ON CONFLICT (key) DO NOTHING;
INSERT INTO blobs (key, org_id, app_id, kind, run_id, created_at)
SELECT log_blob, org_id, app_id, 'run_log', id, coalesce(finished_at, started_at, created_at) FROM runs WHERE log_blob IS NOT NULL
ON CONFLICT (key) DO NOTHING;
INSERT INTO blobs (key, org_id, app_id, kind, run_id, created_at)
SELECT changeset_blob, org_id, app_id, 'changeset', id, coalesce(finished_at, started_at, created_at) FROM runs WHERE changeset_blob IS NOT NULL
ON CONFLICT (key) DO NOTHING;
