import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { getOrgBudget, listAudit } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';

const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** A Stripe event as Stripe sends it (only the fields Userz reads, plus the envelope). */
function event(id: string, type: string, object: Record<string, unknown>, created = now()): string {
  return JSON.stringify({ id, object: 'event', api_version: '2025-01-27.acacia', created, livemode: false, type, data: { object } });
}

describe.each(DB_KINDS)('POST /api/stripe/webhooks (%s)', (kind) => {
  let app: TestApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind, env: { STRIPE_WEBHOOK_SECRET: SECRET } });
    orgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'billing');
  });
  afterAll(async () => app.close());

  const send = (payload: string, header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET })) =>
    fetch(`${app.url}/api/stripe/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  const plan = async () => (await getOrgBudget(app.deps.store.db, orgId))?.plan ?? 'free';
  const eventRows = async (id: string) =>
    (await app.deps.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe_events WHERE event_id = $1', [id]))[0]!.n;
  const subscription = (metadata: Record<string, string>, status = 'active', lookupKey: string | null = null) => ({
    id: 'sub_1',
    object: 'subscription',
    status,
    metadata,
    items: { object: 'list', data: [{ id: 'si_1', price: { id: 'price_1', lookup_key: lookupKey, metadata: {} } }] },
  });

  it('sets the plan from a verified checkout session (org from client_reference_id), audited as Stripe', async () => {
    const id = `evt_${kind}_checkout`;
    const res = await send(
      event(id, 'checkout.session.completed', {
        id: 'cs_1',
        object: 'checkout.session',
        client_reference_id: orgId,
        payment_status: 'paid',
        metadata: { userz_plan: 'pro' },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, outcome: 'plan_set' });
    expect(await plan()).toBe('pro');
    const audit = await listAudit(app.deps.store.db, { action: 'org.plan' });
    expect(audit.filter((e) => e.actor === `stripe:${id}`)).toHaveLength(1);
  });

  it('follows subscription events: the plan from the price lookup key, back to free when deleted', async () => {
    const updated = await send(event(`evt_${kind}_sub_updated`, 'customer.subscription.updated', subscription({ userz_org_id: orgId }, 'active', 'team')));
    expect(await updated.json()).toMatchObject({ outcome: 'plan_set' });
    expect(await plan()).toBe('team');
    const deleted = await send(event(`evt_${kind}_sub_deleted`, 'customer.subscription.deleted', subscription({ userz_org_id: orgId }, 'canceled')));
    expect(await deleted.json()).toMatchObject({ outcome: 'plan_set' });
    expect(await plan()).toBe('free');
  });

  it('applies a replayed event once: the same id again changes nothing', async () => {
    const id = `evt_${kind}_replayed`;
    const payload = event(id, 'customer.subscription.created', subscription({ userz_org_id: orgId, userz_plan: 'pro' }));
    expect(await (await send(payload)).json()).toMatchObject({ outcome: 'plan_set' });
    expect(await plan()).toBe('pro');
    // Meanwhile the org moved on; the replay (a fresh signature over the same event) must not undo that.
    await send(event(`evt_${kind}_after_replayed`, 'customer.subscription.updated', subscription({ userz_org_id: orgId, userz_plan: 'team' })));
    expect(await plan()).toBe('team');
    const replay = await send(payload);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ outcome: 'duplicate' });
    expect(await plan()).toBe('team');
    expect(await eventRows(id)).toBe(1);
    expect((await listAudit(app.deps.store.db, { action: 'org.plan' })).filter((e) => e.actor === `stripe:${id}`)).toHaveLength(1);
  });

  it('refuses a stale signature (older than 300 s) with 401 bad_signature and changes nothing', async () => {
    const id = `evt_${kind}_stale`;
    const payload = event(id, 'customer.subscription.updated', subscription({ userz_org_id: orgId, userz_plan: 'free' }));
    const before = await plan();
    const res = await send(payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: now() - 301 }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_signature' } });
    expect(await eventRows(id)).toBe(0);
    expect(await plan()).toBe(before);
    // Inside the tolerance it is accepted.
    const fresh = await send(payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: now() - 200 }));
    expect(await fresh.json()).toMatchObject({ outcome: 'plan_set' });
  });

  it('refuses forged deliveries: another secret, a body that is not the signed one, no signature', async () => {
    const id = `evt_${kind}_forged`;
    const payload = event(id, 'checkout.session.completed', {
      id: 'cs_2',
      client_reference_id: orgId,
      payment_status: 'paid',
      metadata: { userz_plan: 'team' },
    });
    const before = await plan();
    const other = Stripe.webhooks.generateTestHeaderString({ payload, secret: `whsec_${randomBytes(24).toString('hex')}` });
    const signedOther = Stripe.webhooks.generateTestHeaderString({ payload: payload.replace('team', 'free'), secret: SECRET });
    for (const header of [other, signedOther, '', 't=1,v1=00']) {
      const res = await send(payload, header);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'bad_signature' } });
    }
    const unsigned = await fetch(`${app.url}/api/stripe/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    expect(unsigned.status).toBe(401);
    expect(await eventRows(id)).toBe(0);
    expect(await plan()).toBe(before);
  });

  it('acknowledges and ignores an unknown event type without recording it', async () => {
    const id = `evt_${kind}_invoice`;
    const res = await send(event(id, 'invoice.paid', { id: 'in_1', object: 'invoice', metadata: { userz_org_id: orgId, userz_plan: 'team' } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, ignored: 'event_not_handled' });
    expect(await eventRows(id)).toBe(0);
  });

  it('never lets an older event undo a newer plan, and answers 200 for unknown orgs and plans', async () => {
    const t = now();
    await send(event(`evt_${kind}_newer`, 'customer.subscription.updated', subscription({ userz_org_id: orgId, userz_plan: 'pro' }), t + 10));
    expect(await plan()).toBe('pro');
    const older = await send(event(`evt_${kind}_older`, 'customer.subscription.updated', subscription({ userz_org_id: orgId, userz_plan: 'team' }), t - 10));
    expect(await older.json()).toMatchObject({ outcome: 'superseded' });
    expect(await plan()).toBe('pro');

    const unknownOrg = await send(
      event(`evt_${kind}_no_such_org`, 'customer.subscription.updated', subscription({ userz_org_id: 'org_nope', userz_plan: 'team' })),
    );
    expect(await unknownOrg.json()).toMatchObject({ outcome: 'org_unknown' });
    const unknownPlan = await send(
      event(`evt_${kind}_odd_plan`, 'customer.subscription.updated', subscription({ userz_org_id: orgId, userz_plan: 'platinum' }), t + 20),
    );
    expect(await unknownPlan.json()).toMatchObject({ outcome: 'plan_unknown' });
    const noOrg = await send(event(`evt_${kind}_no_org`, 'customer.subscription.updated', subscription({ userz_plan: 'team' })));
    expect(await noOrg.json()).toMatchObject({ outcome: 'no_org' });
    expect(await plan()).toBe('pro');
  });

  it('refuses a body over the cap with 413 before verifying it', async () => {
    const payload = event(`evt_${kind}_huge`, 'checkout.session.completed', { id: 'cs_3', padding: 'x'.repeat(600 * 1024) });
    const res = await send(payload);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });
});
