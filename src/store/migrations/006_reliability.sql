-- Reliability: a report whose triage failed for good is `errored` with the reason, not
-- left `received` behind a finished job; job claims by due time use an index.

ALTER TABLE reports ADD COLUMN status_reason text;

-- Reports acknowledged before this migration whose triage job already ended in failure.
UPDATE reports r SET status = 'errored', status_reason = coalesce(j.last_error, 'triage_failed')
  FROM jobs j
 WHERE j.key = 'triage:' || r.id AND j.done_at IS NOT NULL AND j.last_error IS NOT NULL
   AND r.status = 'received' AND r.batch_id IS NULL;

CREATE INDEX jobs_due_idx ON jobs (kind, run_at, id) WHERE done_at IS NULL;
