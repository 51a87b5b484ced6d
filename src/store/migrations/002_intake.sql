-- Intake: Slack workspace installations (multi-workspace OAuth), a per-App Discord bot
-- token, and the outcome the reporter is told about (read by the widget's status poll).

CREATE TABLE slack_installations (
  team_id               text PRIMARY KEY,
  app_id                text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  org_id                text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  team_name             text,
  bot_user_id           text,
  bot_token_secret_id   text REFERENCES secrets(id) ON DELETE SET NULL,
  installed_by          text,
  installed_at          timestamptz NOT NULL DEFAULT now(),
  uninstalled_at        timestamptz
);
CREATE INDEX slack_installations_app_idx ON slack_installations (app_id);

ALTER TABLE apps ADD COLUMN discord_bot_token_secret_id text REFERENCES secrets(id) ON DELETE SET NULL;

-- What the reporter was told when the run ended: {kind, url?, reason?}. Public facts only.
ALTER TABLE reports ADD COLUMN outcome jsonb;
ALTER TABLE reports ADD COLUMN notified_at timestamptz;
