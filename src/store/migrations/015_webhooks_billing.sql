-- Outgoing webhooks and billing webhooks (issue 19).

-- An org's HTTPS endpoints. The signing secret is a vault secret (only its id is here);
-- a deleted endpoint keeps its row (deleted_at) so a delivery in flight finds it and stops.
CREATE TABLE webhook_endpoints (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  url         text NOT NULL,
  events      text[] NOT NULL,
  secret_id   text NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (org_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- One row per delivery attempt (the delivery log). delivery_id is the same across the
-- retries of one event to one endpoint (the receiver's de-duplication key).
CREATE TABLE webhook_attempts (
  id           bigserial PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  endpoint_id  text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  delivery_id  text NOT NULL,
  event_id     text NOT NULL,
  event_type   text NOT NULL,
  attempt      integer NOT NULL,
  status_code  integer,
  error        text,
  delivered    boolean NOT NULL,
  -- Set on the attempt after which no more are made (delivered, gave up, endpoint gone).
  final        boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, created_at DESC, id DESC);

-- Stripe events already applied, by Stripe's event id: written in the transaction of the
-- effect, so a redelivered event changes nothing.
CREATE TABLE stripe_events (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  org_id       text REFERENCES orgs(id) ON DELETE SET NULL,
  -- Stripe's `created` (unix seconds): an older event never undoes a newer one's plan.
  created      bigint NOT NULL,
  outcome      text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_org_idx ON stripe_events (org_id, created DESC) WHERE org_id IS NOT NULL;
