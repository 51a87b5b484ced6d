import { PLANS, setOrgPlan } from '../../src/billing/index.js';
import { getOrgBudget, listAudit, type Db } from '../../src/store/index.js';
import { KeyringMasterKey, Vault, generateKeyringEntry } from '../../src/security/index.js';
import { createTestOrg, openTestDb } from '../helpers/db.js';

describe('setOrgPlan', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb('pglite');
  });
  afterAll(async () => {
    await db.close();
  });

  it('puts an org on a plan, keeps who decided, and refuses an unknown plan', async () => {
    const orgId = await createTestOrg(db, new Vault(db, new KeyringMasterKey(generateKeyringEntry(1))));
    const set = await setOrgPlan(db, orgId, 'pro', 'stripe:evt_1');
    expect(set).toEqual({ plan: 'pro', limits: PLANS.pro });
    expect(await getOrgBudget(db, orgId)).toMatchObject({ plan: 'pro', planSource: 'stripe:evt_1', monthlyCostCapUsd: null });
    await setOrgPlan(db, orgId, 'team', 'stripe:evt_2');
    expect((await getOrgBudget(db, orgId))?.plan).toBe('team');
    await expect(setOrgPlan(db, orgId, 'gold', 'stripe:evt_3')).rejects.toMatchObject({ code: 'plan_unknown', status: 400 });
    const audit = await listAudit(db, { orgId });
    expect(audit.filter((e) => e.action === 'org.plan').map((e) => e.data.plan)).toEqual(expect.arrayContaining(['pro', 'team']));
  });
});
