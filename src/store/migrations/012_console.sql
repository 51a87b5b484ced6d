-- Console pages (issue 13): the inbox lists an org's reports newest first by (created_at, id),
-- the keyset every list uses (store/keyset.ts), so page 1000 costs what page 1 costs; the
-- state filter and the review queue have an index of their own; search is full text over
-- the report's text ('simple': no stemming dictionary, the same on Postgres and PGlite,
-- prefix matching in the query stands in for stemming).

CREATE INDEX reports_org_created_idx ON reports (org_id, created_at DESC, id DESC);
CREATE INDEX reports_org_status_created_idx ON reports (org_id, status, created_at DESC, id DESC);
CREATE INDEX reports_text_search_idx ON reports USING gin (to_tsvector('simple', coalesce(content->>'text', '')));
