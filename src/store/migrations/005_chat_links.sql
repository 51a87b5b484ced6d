-- One-time codes that link a Slack workspace or a Discord server to an App. An org asks
-- the API for a code; a member of the workspace (Slack, single-workspace mode) or a
-- member with Manage Server (Discord) sends it with `/userz link`. Only the sha256 of the
-- code is stored; a code is bound to one App and one provider, used once, and expires.

CREATE TABLE chat_link_codes (
  code_hash   text PRIMARY KEY,
  app_id      text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  provider    text NOT NULL CHECK (provider IN ('slack', 'discord')),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  used_for    text
);
CREATE INDEX chat_link_codes_app_idx ON chat_link_codes (app_id, provider);
