-- The repository's policy (.userz.yml) as the last run read it at its base commit on the
-- default branch, shown on the console's /repos page. One row per repository, replaced by
-- each run that reads it; policy_text NULL: the base commit has no .userz.yml.
CREATE TABLE repo_policy_snapshots (
  repo_id      text PRIMARY KEY REFERENCES repos(id) ON DELETE CASCADE,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  base_commit  text NOT NULL,
  policy_text  text,
  read_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX repo_policy_snapshots_org ON repo_policy_snapshots (org_id);
