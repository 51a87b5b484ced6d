import Stripe from 'stripe';
import type { Logger } from 'pino';
import { UserzError } from '../errors.js';
import { readBody, sendJson, type Router } from '../http/index.js';
import { latestStripePlanEvent, recordStripeEvent, type Db } from '../store/index.js';
import { DEFAULT_PLAN, isPlanName, setOrgPlan } from './plans.js';

/**
 * `POST /api/stripe/webhooks`: Stripe's billing events set an org's plan (plans.ts maps a
 * plan to its monthly caps). Verified with the `stripe` package's own constructEvent over
 * the raw body (300 s tolerance); an event is applied once, by its id, in the transaction
 * of its effect. docs/webhooks.md says which fields name the org and the plan.
 */
interface StripeRouteDeps {
  db: Db;
  log: Logger;
  /** STRIPE_WEBHOOK_SECRET, the endpoint's `whsec_…`. */
  webhookSecret: string;
}

/** Stripe's events are a few KB; a subscription with many items stays far below this. */
const STRIPE_BODY_LIMIT = 512 * 1024;
const TOLERANCE_SECONDS = 300;

const HANDLED = new Set(['checkout.session.completed', 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted']);

/** What an event asks for: a plan for an org, or why it asks for nothing. */
type PlanChange = { kind: 'plan'; orgId: string; plan: string } | { kind: 'ignored'; reason: string; orgId: string | null };

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
const asString = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null);

/** Subscription states that keep the plan paid for; past_due keeps it while Stripe retries the payment. */
const PAID = new Set(['active', 'trialing', 'past_due']);
/** States after which the org is back on the default plan. */
const ENDED = new Set(['canceled', 'unpaid', 'incomplete_expired', 'paused']);

/** Reads the org and plan an event names (metadata set by the customer's checkout integration). */
function planChangeOf(event: { type: string; data: { object: unknown } }): PlanChange {
  const object = asObject(event.data.object);
  const metadata = asObject(object.metadata);
  if (event.type === 'checkout.session.completed') {
    const orgId = asString(metadata.userz_org_id) ?? asString(object.client_reference_id);
    if (!orgId) return { kind: 'ignored', reason: 'no_org', orgId: null };
    if (object.payment_status === 'unpaid') return { kind: 'ignored', reason: 'not_paid', orgId };
    const plan = asString(metadata.userz_plan);
    return plan ? { kind: 'plan', orgId, plan } : { kind: 'ignored', reason: 'no_plan', orgId };
  }
  const orgId = asString(metadata.userz_org_id);
  if (!orgId) return { kind: 'ignored', reason: 'no_org', orgId: null };
  if (event.type === 'customer.subscription.deleted') return { kind: 'plan', orgId, plan: DEFAULT_PLAN };
  const status = asString(object.status) ?? '';
  if (ENDED.has(status)) return { kind: 'plan', orgId, plan: DEFAULT_PLAN };
  if (!PAID.has(status)) return { kind: 'ignored', reason: `status_${status || 'missing'}`, orgId };
  const firstItem = asObject((asObject(object.items).data as unknown[] | undefined)?.[0]);
  const price = asObject(firstItem.price);
  const fromPrice = asString(asObject(price.metadata).userz_plan) ?? asString(price.lookup_key);
  const plan = asString(metadata.userz_plan) ?? fromPrice;
  return plan ? { kind: 'plan', orgId, plan } : { kind: 'ignored', reason: 'no_plan', orgId };
}

/**
 * Applies one verified event: records its id (a redelivery stops here), then sets the
 * plan, in one transaction. An event older than the one that last set the org's plan
 * (Stripe does not promise order) is recorded and changes nothing.
 */
async function applyStripeEvent(db: Db, event: { id: string; type: string; created: number; data: { object: unknown } }): Promise<string> {
  const change = planChangeOf(event);
  return db.transaction(async (tx) => {
    let outcome = change.kind === 'plan' ? (isPlanName(change.plan) ? 'plan_set' : 'plan_unknown') : change.reason;
    if (outcome === 'plan_set' && change.orgId !== null) {
      const latest = await latestStripePlanEvent(tx, change.orgId);
      if (latest !== null && latest > event.created) outcome = 'superseded';
    }
    const recorded = await recordStripeEvent(tx, { eventId: event.id, type: event.type, orgId: change.orgId, created: event.created, outcome });
    if (!recorded) return 'duplicate';
    if (change.orgId !== null && !recorded.orgExists) return 'org_unknown';
    if (outcome === 'plan_set' && change.kind === 'plan') await setOrgPlan(tx, change.orgId, change.plan, `stripe:${event.id}`);
    return outcome;
  });
}

export function registerStripeWebhookRoute(router: Router, deps: StripeRouteDeps): void {
  router.add('POST', '/api/stripe/webhooks', async (req, res) => {
    const body = await readBody(req, STRIPE_BODY_LIMIT);
    const header = req.headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      if (typeof header !== 'string') throw new Error('missing');
      event = Stripe.webhooks.constructEvent(body, header, deps.webhookSecret, TOLERANCE_SECONDS);
    } catch {
      throw new UserzError('bad_signature', `The Stripe-Signature does not match this endpoint's secret, or is older than ${TOLERANCE_SECONDS} s`);
    }
    if (!HANDLED.has(event.type)) {
      sendJson(res, 200, { received: true, ignored: 'event_not_handled' });
      return;
    }
    const outcome = await applyStripeEvent(deps.db, event);
    deps.log.info({ stripeEventId: event.id, type: event.type, outcome }, 'Stripe event received');
    sendJson(res, 200, { received: true, outcome });
  });
}
