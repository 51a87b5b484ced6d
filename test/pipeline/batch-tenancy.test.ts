import { ScriptedModelClient } from '../../src/model/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { acceptReport, createApp } from '../../src/intake/index.js';
import { getApp } from '../../src/store/apps.js';
import { upsertRepo } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';

const benign = () => ({ content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) });

describe('a batch never mixes orgs or Apps', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
  });
  afterAll(async () => app.close());

  async function product(orgName: string, orgId?: string) {
    const { db } = app.deps.store;
    const org = orgId ?? (await createTestOrg(db, app.deps.vault, orgName));
    const repo = await upsertRepo(
      db,
      { orgId: org, forge: 'github', externalId: `${Math.floor(Math.random() * 1e9)}`, fullName: `${orgName}/app`, installationId: 99 },
      'test',
    );
    const created = await createApp(db, app.deps.vault, { orgId: org, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
    return (await getApp(db, created.app.id))!;
  }

  it('starts a separate batch for the same error reported to another org’s App and to another App of the same org', async () => {
    const { db, blobs } = app.deps.store;
    const appA = await product('org-a');
    const appB = await product('org-b');
    const appA2 = await product('org-a', appA.orgId);
    const deps = { ...app.deps.pipeline, classifier: new ScriptedModelClient([benign(), benign(), benign(), benign()]), batchDelayMs: 60_000 };
    const ids: string[] = [];
    // The same console error, word for word: the fingerprints are identical.
    for (const target of [appA, appB, appA2, appA]) {
      const content = { text: 'Cart crashes', console: [{ level: 'error' as const, message: 'TypeError: x is undefined at cart.js:10:5' }] };
      const { report } = await acceptReport(
        { db, blobs },
        { app: target, source: 'widget', content, replyTo: { kind: 'widget' }, reporterKey: null, actor: 'test' },
      );
      await triageReport(deps, report.id);
      ids.push(report.id);
    }
    const rows = await db.query<{ id: string; batch_id: string }>('SELECT id, batch_id FROM reports WHERE id = ANY($1::text[])', [ids]);
    const batchOf = new Map(rows.map((r) => [r.id, r.batch_id]));
    // Only A's two reports to the same App share a batch (the control: batching does happen).
    expect(batchOf.get(ids[3]!)).toBe(batchOf.get(ids[0]!));
    expect(new Set([batchOf.get(ids[0]!), batchOf.get(ids[1]!), batchOf.get(ids[2]!)]).size).toBe(3);
    const mixed = await db.query(
      `SELECT b.id FROM batches b JOIN reports r ON r.batch_id = b.id JOIN runs ru ON ru.batch_id = b.id
        GROUP BY b.id, b.app_id, ru.org_id, ru.app_id
       HAVING count(DISTINCT r.org_id) > 1 OR count(DISTINCT r.app_id) > 1 OR bool_or(r.app_id <> b.app_id OR r.app_id <> ru.app_id OR r.org_id <> ru.org_id)`,
    );
    expect(mixed).toEqual([]);
  });
});
