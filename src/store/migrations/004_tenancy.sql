-- Tenancy: a GitHub installation (and so each of its repos) belongs to an org only through
-- an explicit act: the operator's `userz repos link-installation`, or an install link the
-- org created whose callback proved that the installing person administers the
-- installation. One GitHub App per deployment, so the installation id alone is the key.
CREATE TABLE github_installations (
  installation_id  bigint PRIMARY KEY,
  org_id           text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  -- Who linked it: 'cli', or 'github:<user id>' for the install-link callback.
  linked_by        text NOT NULL,
  linked_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_installations_org_idx ON github_installations (org_id);

-- Install links (POST /api/v1/github/install-links): the nonce of each `state`, stored
-- hashed, single use (consumed_at), expiring. The state itself is also HMAC-signed.
CREATE TABLE github_install_states (
  nonce_hash   text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  created_by   text NOT NULL,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Installations whose repos an org already owns (linked before this migration) keep it,
-- when all their repos agree on one org.
INSERT INTO github_installations (installation_id, org_id, linked_by)
SELECT installation_id, min(org_id), 'migration'
  FROM repos
 WHERE forge = 'github' AND installation_id IS NOT NULL AND org_id IS NOT NULL
 GROUP BY installation_id
HAVING count(DISTINCT org_id) = 1;
