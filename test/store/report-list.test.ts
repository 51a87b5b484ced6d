import { createApp } from '../../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { insertReports, listHeldReports, listReports, newId, previousReportsCursor, type Db, type ReportListItem } from '../../src/store/index.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('listReports on %s', (kind) => {
  let db: Db;
  let orgA: string;
  let orgB: string;
  let appA: string;
  let appA2: string;
  let appB: string;
  const ids: string[] = [];

  beforeAll(async () => {
    db = await openTestDb(kind);
    const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgA = await createTestOrg(db, vault, 'A');
    orgB = await createTestOrg(db, vault, 'B');
    appA = (await createApp(db, vault, { orgId: orgA, name: 'Shop', origins: [], actor: 'test' })).app.id;
    appA2 = (await createApp(db, vault, { orgId: orgA, name: 'Admin', origins: [], actor: 'test' })).app.id;
    appB = (await createApp(db, vault, { orgId: orgB, name: 'Other', origins: [], actor: 'test' })).app.id;
    const texts = ['The checkout button crashes', 'Search box loses focus', 'Avatar upload spins forever', 'Checkout total is wrong'];
    const rows = Array.from({ length: 25 }, (_, i) => ({
      id: newId('rep'),
      orgId: orgA,
      appId: i % 5 === 0 ? appA2 : appA,
      source: (i % 3 === 0 ? 'slack' : 'widget') as 'slack' | 'widget',
      content: { text: `${texts[i % texts.length]} (#${i})`, reporter: { name: `Reporter ${i}` } },
      replyTo: null,
      reporterKey: null,
      attachments: [],
      statusToken: null,
    }));
    await insertReports(db, rows, 'test');
    ids.push(...rows.map((r) => r.id));
    // Every report of A in the same millisecond, apart by microseconds: the cursor must not skip any.
    await db.query(
      `UPDATE reports SET created_at = timestamptz '2026-12-01 10:00:00.123' + (n * interval '1 microsecond')
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM reports WHERE org_id = $1) x WHERE reports.id = x.id`,
      [orgA],
    );
    await db.query(`UPDATE reports SET status = 'needs_review', classification = $2 WHERE id = ANY($1::text[])`, [
      [ids[1], ids[2]],
      JSON.stringify({ status: 'classified', classification: { label: 'malicious_injection', confidence: 0.6, reason: 'asks to ignore rules' }, model: 'm' }),
    ]);
    await insertReports(
      db,
      [
        {
          id: newId('rep'),
          orgId: orgB,
          appId: appB,
          source: 'widget',
          content: { text: 'Checkout of org B' },
          replyTo: null,
          reporterKey: null,
          attachments: [],
          statusToken: null,
        },
      ],
      'test',
    );
  });
  afterAll(async () => db.close());

  async function all(filter = {}, limit = 4): Promise<ReportListItem[]> {
    const out: ReportListItem[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page = await listReports(db, orgA, filter, { cursor, limit });
      out.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  it('pages through every report of the org newest first, none skipped or repeated within one millisecond', async () => {
    const seen = await all();
    expect(seen).toHaveLength(25);
    expect(new Set(seen.map((r) => r.id)).size).toBe(25);
    const keys = seen.map((r) => r.createdAt.getTime());
    expect([...keys].sort((a, b) => b - a)).toEqual(keys);
    expect(seen.every((r) => r.appName === 'Shop' || r.appName === 'Admin')).toBe(true);
  });

  it('filters by state, label, App, channel and search words (as prefixes), and never shows another org', async () => {
    expect((await all({ state: 'needs_review' })).map((r) => r.id).sort()).toEqual([ids[1], ids[2]].sort());
    expect((await all({ label: 'malicious_injection' })).map((r) => r.label)).toEqual(['malicious_injection', 'malicious_injection']);
    expect((await all({ appId: appA2 })).every((r) => r.appId === appA2)).toBe(true);
    expect(await all({ appId: appB })).toEqual([]);
    expect((await all({ channel: 'slack' })).every((r) => r.channel === 'slack')).toBe(true);
    const checkout = await all({ q: 'checkout' });
    expect(checkout.length).toBe(13);
    expect(checkout.every((r) => /checkout/i.test(r.excerpt))).toBe(true);
    expect((await all({ q: 'check crash' })).every((r) => r.excerpt.startsWith('The checkout button crashes'))).toBe(true);
    // tsquery syntax in the box is only words.
    expect(await all({ q: "')&!(:*" })).toHaveLength(25);
    expect(await all({ q: 'nosuchword' })).toEqual([]);
  });

  it('gives the cursor of the previous page: null back to the first, undefined before the first', async () => {
    const p1 = await listReports(db, orgA, {}, { limit: 10 });
    const p2 = await listReports(db, orgA, {}, { cursor: p1.nextCursor, limit: 10 });
    const p3 = await listReports(db, orgA, {}, { cursor: p2.nextCursor, limit: 10 });
    expect(await previousReportsCursor(db, orgA, {}, p1.items[0]!, 10)).toBeUndefined();
    expect(await previousReportsCursor(db, orgA, {}, p2.items[0]!, 10)).toBeNull();
    const back = await previousReportsCursor(db, orgA, {}, p3.items[0]!, 10);
    expect((await listReports(db, orgA, {}, { cursor: back!, limit: 10 })).items.map((r) => r.id)).toEqual(p2.items.map((r) => r.id));
  });

  it('lists held reports only when their run waits for review, and only in the org', async () => {
    expect(await listHeldReports(db, orgA, 10)).toEqual([]);
    expect(await listHeldReports(db, orgB, 10)).toEqual([]);
  });
});
