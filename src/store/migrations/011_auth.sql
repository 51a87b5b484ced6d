-- Console sign-in (issue 13). The four auth_* tables are better-auth 1.7's schema, generated
-- once from src/console/auth/auth.ts (its getMigrations, compiled) under our table and column
-- names; its migrator never runs. Org membership and invites are ours.
CREATE TABLE "auth_users" ("id" text not null primary key, "name" text not null, "email" text not null unique, "email_verified" boolean not null, "image" text, "created_at" timestamptz default CURRENT_TIMESTAMP not null, "updated_at" timestamptz default CURRENT_TIMESTAMP not null);

CREATE TABLE "auth_sessions" ("id" text not null primary key, "expires_at" timestamptz not null, "token" text not null unique, "created_at" timestamptz default CURRENT_TIMESTAMP not null, "updated_at" timestamptz not null, "ip_address" text, "user_agent" text, "user_id" text not null references "auth_users" ("id") on delete cascade);

CREATE TABLE "auth_accounts" ("id" text not null primary key, "account_id" text not null, "provider_id" text not null, "user_id" text not null references "auth_users" ("id") on delete cascade, "access_token" text, "refresh_token" text, "id_token" text, "access_token_expires_at" timestamptz, "refresh_token_expires_at" timestamptz, "scope" text, "password" text, "created_at" timestamptz default CURRENT_TIMESTAMP not null, "updated_at" timestamptz not null);

CREATE TABLE "auth_verifications" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expires_at" timestamptz not null, "created_at" timestamptz default CURRENT_TIMESTAMP not null, "updated_at" timestamptz default CURRENT_TIMESTAMP not null);

CREATE INDEX "auth_sessions_user_id_idx" on "auth_sessions" ("user_id");

CREATE INDEX "auth_accounts_user_id_idx" on "auth_accounts" ("user_id");

CREATE INDEX "auth_verifications_identifier_idx" on "auth_verifications" ("identifier");

-- A user's role in an org. The last owner of an org can be neither removed nor demoted
-- (checked in src/store/members.ts, in the same transaction as the change).
CREATE TABLE org_members (
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user_idx ON org_members (user_id);

-- An invitation by email: the link carries a random token, only its SHA-256 is stored.
-- Single use (accepted_at), expiring (expires_at). `userz init --owner` records the first
-- owner as one (invited_by 'cli'), taken when that address is verified.
CREATE TABLE org_invites (
  id           text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  email        text NOT NULL,
  role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash   text NOT NULL UNIQUE,
  expires_at   timestamptz NOT NULL,
  accepted_at  timestamptz,
  accepted_by  text REFERENCES auth_users(id) ON DELETE SET NULL,
  invited_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX org_invites_org_idx ON org_invites (org_id, created_at DESC, id DESC);
CREATE INDEX org_invites_email_idx ON org_invites (lower(email)) WHERE accepted_at IS NULL;
