-- Widget retries (issue 14): the widget sends each report with one idempotency key and
-- retries a failed send with the same key, so a retry after a lost answer is stored once.
-- report_id is NULL while the first attempt is being stored.
CREATE TABLE widget_submissions (
  app_id          text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  idempotency_key text NOT NULL,
  report_id       text REFERENCES reports(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, idempotency_key)
);
CREATE INDEX widget_submissions_created_idx ON widget_submissions (created_at);
