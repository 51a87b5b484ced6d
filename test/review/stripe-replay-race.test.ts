import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { getOrgBudget, listAudit } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';

const SECRET = `whsec_${randomBytes(24).toString('hex')}`;

/**
 * Review probe (issue 19): Stripe redelivers an event while the first delivery is still in
 * flight (its retry after a slow answer). The same event id sent 8 times at once, each with a
 * fresh valid signature, is applied once: one plan_set, the others duplicate, all 200, one
 * audit row and one stripe_events row (on Postgres, where the transactions really overlap).
 */
describe('Stripe: the same event delivered concurrently (review probe, Postgres)', () => {
  let app: TestApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', env: { STRIPE_WEBHOOK_SECRET: SECRET } });
    orgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'race');
  });
  afterAll(async () => app.close());

  it('applies it exactly once', async () => {
    const id = `evt_race_${randomBytes(6).toString('hex')}`;
    const payload = JSON.stringify({
      id,
      object: 'event',
      api_version: '2025-01-27.acacia',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      type: 'customer.subscription.created',
      data: { object: { id: 'sub_r', object: 'subscription', status: 'active', metadata: { userz_org_id: orgId, userz_plan: 'team' }, items: { data: [] } } },
    });
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${app.url}/api/stripe/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
          body: payload,
        });
        return [res.status, ((await res.json()) as { outcome?: string }).outcome] as const;
      }),
    );
    expect(answers.map(([s]) => s)).toEqual(Array(8).fill(200));
    expect(answers.map(([, o]) => o).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'plan_set']);
    expect((await getOrgBudget(app.deps.store.db, orgId))?.plan).toBe('team');
    expect((await listAudit(app.deps.store.db, { action: 'org.plan' })).filter((e) => e.actor === `stripe:${id}`)).toHaveLength(1);
    const [row] = await app.deps.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe_events WHERE event_id = $1', [id]);
    expect(row!.n).toBe(1);
  });

  it('never lets an older event that commits last undo a newer plan (an older and a newer event of one org at once, 12 rounds)', async () => {
    const created = Math.floor(Date.now() / 1000);
    const send = (id: string, plan: string, at: number) => {
      const payload = JSON.stringify({
        id,
        object: 'event',
        api_version: '2025-01-27.acacia',
        created: at,
        livemode: false,
        type: 'customer.subscription.updated',
        data: { object: { id: 'sub_o', object: 'subscription', status: 'active', metadata: { userz_org_id: orgId, userz_plan: plan }, items: { data: [] } } },
      });
      return fetch(`${app.url}/api/stripe/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
        body: payload,
      }).then((r) => r.json());
    };
    const plans: string[] = [];
    for (let round = 0; round < 12; round++) {
      const tag = randomBytes(4).toString('hex');
      // Each round newer than the last; within it the older event says pro, the newer team (or the reverse).
      const [older, newer] = round % 2 === 0 ? ['pro', 'team'] : ['team', 'pro'];
      const at = created + 10 * (round + 1);
      await Promise.all([send(`evt_old_${tag}`, older, at), send(`evt_new_${tag}`, newer, at + 1)]);
      plans.push(`${newer}=${(await getOrgBudget(app.deps.store.db, orgId))?.plan}`);
    }
    expect(plans.filter((p) => p.split('=')[0] !== p.split('=')[1])).toEqual([]);
  });
});
