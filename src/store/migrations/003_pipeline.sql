-- Pipeline: batch fingerprints for similarity, run attempts and the stored change set.

ALTER TABLE batches ADD COLUMN signature jsonb;
ALTER TABLE batches ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE batches ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE runs ADD COLUMN started_at timestamptz;
ALTER TABLE runs ADD COLUMN finished_at timestamptz;
-- Blob key of the change set read out of the sandbox: delivery after a crash resumes from it.
ALTER TABLE runs ADD COLUMN changeset_blob text;
ALTER TABLE reports ADD COLUMN decision jsonb;
CREATE INDEX runs_app_started_idx ON runs (app_id, started_at);
