-- Userz schema, first version. Ids are prefixed random strings (org_…, run_…) made by
-- src/store/ids.ts; times are timestamptz; secrets are only ever ciphertext here.

CREATE TABLE orgs (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Per-org data keys, wrapped by a master key that never enters the database.
-- Rotation of the master key rewraps wrapped_key in place; key_version is the data key's
-- own version and is bound into every record's AAD.
CREATE TABLE org_keys (
  org_id          text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  key_version     integer NOT NULL,
  master_version  integer NOT NULL,
  wrapped_key     bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  rewrapped_at    timestamptz,
  PRIMARY KEY (org_id, key_version)
);

-- Envelope-encrypted secrets: AI keys, GitLab tokens, chat bot tokens, App signing secrets.
CREATE TABLE secrets (
  id           text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  kind         text NOT NULL,
  key_version  integer NOT NULL,
  nonce        bytea NOT NULL,
  ciphertext   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX secrets_org_idx ON secrets (org_id);

-- Customer API keys sk_…: prefix is the public lookup handle, the secret is a salted scrypt hash.
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  org_id        text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  prefix        text NOT NULL UNIQUE,
  salt          bytea NOT NULL,
  hash          bytea NOT NULL,
  label         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE repos (
  id               text PRIMARY KEY,
  org_id           text REFERENCES orgs(id) ON DELETE CASCADE,
  forge            text NOT NULL CHECK (forge IN ('github', 'gitlab')),
  external_id      text NOT NULL,
  full_name        text NOT NULL,
  -- '' means the public service (api.github.com / gitlab.com); else the API base URL.
  base_url         text NOT NULL DEFAULT '',
  installation_id  bigint,
  default_branch   text NOT NULL DEFAULT 'main',
  token_secret_id  text REFERENCES secrets(id) ON DELETE SET NULL,
  webhook_secret_id text REFERENCES secrets(id) ON DELETE SET NULL,
  suspended_at     timestamptz,
  removed_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (forge, base_url, external_id)
);
CREATE INDEX repos_installation_idx ON repos (installation_id);

-- One App per customer product: the widget's public key, allowed origins, links to a repo
-- and optionally to a Slack workspace/channel and a Discord guild/channel.
CREATE TABLE apps (
  id                  text PRIMARY KEY,
  org_id              text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name                text NOT NULL,
  public_key          text NOT NULL UNIQUE,
  origins             jsonb NOT NULL DEFAULT '[]',
  signing_secret_id   text REFERENCES secrets(id) ON DELETE SET NULL,
  repo_id             text REFERENCES repos(id) ON DELETE SET NULL,
  slack_team_id       text,
  slack_channel_id    text,
  discord_guild_id    text,
  discord_channel_id  text,
  daily_run_limit     integer NOT NULL DEFAULT 20,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_org_idx ON apps (org_id);
CREATE UNIQUE INDEX apps_slack_team_idx ON apps (slack_team_id) WHERE slack_team_id IS NOT NULL;
CREATE UNIQUE INDEX apps_discord_guild_idx ON apps (discord_guild_id) WHERE discord_guild_id IS NOT NULL;

CREATE TABLE batches (
  id           text PRIMARY KEY,
  app_id       text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  fingerprint  text NOT NULL,
  summary      text NOT NULL DEFAULT '',
  report_count integer NOT NULL DEFAULT 0,
  open_until   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batches_app_fp_idx ON batches (app_id, fingerprint, open_until);

CREATE TABLE reports (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  app_id          text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  source          text NOT NULL CHECK (source IN ('widget', 'slack', 'discord', 'api')),
  -- The report body as received (bounded by intake limits). Never logged.
  content         jsonb NOT NULL,
  -- Where the reporter is, for telling them the outcome (channel, thread, interaction…).
  reply_to        jsonb,
  reporter_key    text,
  attachments     jsonb NOT NULL DEFAULT '[]',
  status          text NOT NULL DEFAULT 'received',
  signals         jsonb,
  classification  jsonb,
  batch_id        text REFERENCES batches(id) ON DELETE SET NULL,
  status_token    text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  retain_until    timestamptz
);
CREATE INDEX reports_app_idx ON reports (app_id, created_at);
CREATE INDEX reports_batch_idx ON reports (batch_id);

CREATE TABLE runs (
  id            text PRIMARY KEY,
  org_id        text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  app_id        text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  batch_id      text NOT NULL UNIQUE REFERENCES batches(id) ON DELETE CASCADE,
  repo_id       text REFERENCES repos(id) ON DELETE SET NULL,
  state         text NOT NULL DEFAULT 'queued',
  state_reason  text,
  verdict       jsonb,
  base_commit   text,
  branch        text,
  pr_url        text,
  pr_number     integer,
  review_state  text,
  usage         jsonb,
  log_blob      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_state_idx ON runs (state);

-- Append-only: ids and actions only, never secrets or report bodies.
CREATE TABLE audit_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  org_id      text,
  subject     text,
  data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject, id);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, id);

-- Every inbound webhook by the provider's delivery id; the primary key makes a
-- redelivery a no-op.
CREATE TABLE webhook_deliveries (
  provider     text NOT NULL,
  delivery_id  text NOT NULL,
  event        text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, delivery_id)
);

-- The durable job queue (src/pipeline/queue.ts): FOR UPDATE SKIP LOCKED works on both
-- Postgres and PGlite, so the embedded default runs the same pipeline.
CREATE TABLE jobs (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL,
  -- Idempotency key: one live job per key (e.g. "triage:rep_…", "run:run_…").
  key           text NOT NULL UNIQUE,
  payload       jsonb NOT NULL DEFAULT '{}',
  run_at        timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL DEFAULT 5,
  locked_until  timestamptz,
  locked_by     text,
  last_error    text,
  done_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE done_at IS NULL;
