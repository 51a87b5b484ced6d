-- The API (issue 19): scopes on sk_ keys, and the indexes behind the /api/v1 lists.
--
-- A key made before scopes existed could do everything; it keeps that (read, write,
-- admin), so no integration breaks on upgrade. New keys always name their scopes.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['read', 'write', 'admin']::text[];
ALTER TABLE api_keys ALTER COLUMN scopes SET DEFAULT ARRAY['read']::text[];
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_known
  CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'admin']::text[]);

-- Every list is newest first by (created_at, id) within one org (src/store/keyset.ts),
-- so each page is one index range scan.
CREATE INDEX api_keys_org_list_idx ON api_keys (org_id, created_at DESC, id DESC);
CREATE INDEX apps_org_list_idx ON apps (org_id, created_at DESC, id DESC);
CREATE INDEX repos_org_list_idx ON repos (org_id, created_at DESC, id DESC);
CREATE INDEX runs_org_list_idx ON runs (org_id, created_at DESC, id DESC);
-- Batches carry no org: a list walks the org's Apps, each by this index.
CREATE INDEX batches_app_list_idx ON batches (app_id, created_at DESC, id DESC);
