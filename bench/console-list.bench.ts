/**
 * The console's inbox past 100k reports (issue 13): page 1 and page 1000 of one org's
 * reports (50 a page, newest first), the deep page reached by its cursor, on real Postgres
 * with the indexes of 012_console.sql. Keyset pagination should make them cost the same;
 * the goal is the deep page at most twice page 1. For contrast, the same deep page by
 * OFFSET (what the index cannot help) and page 1 of a full-text search, without goals.
 */
import { createApp } from '../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../src/security/index.js';
import { encodeCursor, listReports, type Db } from '../src/store/index.js';
import { createTestOrg, openTestDb } from '../test/helpers/db.js';
import { printBench, scale } from './bench-line.js';
import { ms, summarize } from './stats.js';

const REPORTS = scale(100_000, 20_000);
const LIMIT = 50;
const DEEP_PAGE = scale(1000, 200);
const ROUNDS = scale(200, 40);

async function seed(db: Db): Promise<string> {
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Bench');
  const other = await createTestOrg(db, vault, 'Other');
  const app = (await createApp(db, vault, { orgId, name: 'Shop', origins: [], actor: 'bench' })).app.id;
  const otherApp = (await createApp(db, vault, { orgId: other, name: 'Other', origins: [], actor: 'bench' })).app.id;
  // Two orgs interleaved in time, so the org's index prefix matters; texts vary for the search.
  for (const [org, appId, n] of [
    [orgId, app, REPORTS],
    [other, otherApp, REPORTS / 4],
  ] as const) {
    await db.query(
      `INSERT INTO reports (id, org_id, app_id, source, content, status, created_at)
       SELECT $1 || lpad(g::text, 7, '0'), $2, $3, CASE WHEN g % 7 = 0 THEN 'slack' ELSE 'widget' END,
              jsonb_build_object('text', 'Report ' || g || ': the ' || (ARRAY['checkout', 'search', 'avatar', 'login', 'cart'])[1 + g % 5] || ' page ' ||
                (ARRAY['crashes', 'hangs', 'shows a blank screen', 'loses input'])[1 + g % 4], 'reporter', jsonb_build_object('name', 'User ' || (g % 997))),
              CASE WHEN g % 11 = 0 THEN 'needs_review' ELSE 'triaged' END,
              timestamptz '2026-01-01' + g * interval '7 seconds' + (g % 3) * interval '1 microsecond'
         FROM generate_series(1, $4::int) g`,
      [`rep_${org.slice(-6)}_`, org, appId, n],
    );
  }
  await db.query('ANALYZE reports');
  return orgId;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn(); // warm the plan and the buffer cache
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export default async function run(): Promise<void> {
  const db = await openTestDb('postgres');
  try {
    const t0 = performance.now();
    const orgId = await seed(db);
    console.log(`seeded ${REPORTS} reports (+${REPORTS / 4} of another org) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The cursor page DEEP_PAGE starts from: the last row of page DEEP_PAGE - 1.
    const [last] = await db.query<{ id: string; created_at: Date }>(
      'SELECT id, created_at FROM reports WHERE org_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1',
      [orgId, (DEEP_PAGE - 1) * LIMIT - 1],
    );
    const cursor = encodeCursor(new Date(last!.created_at), last!.id);
    const deepPage = await listReports(db, orgId, {}, { cursor, limit: LIMIT });
    if (deepPage.items.length !== LIMIT) throw new Error(`page ${DEEP_PAGE} has ${deepPage.items.length} rows`);

    const first = summarize(await time(() => listReports(db, orgId, {}, { limit: LIMIT })));
    const deep = summarize(await time(() => listReports(db, orgId, {}, { cursor, limit: LIMIT })));
    const offset = summarize(
      await time(() =>
        db.query('SELECT id FROM reports WHERE org_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $3', [orgId, (DEEP_PAGE - 1) * LIMIT, LIMIT]),
      ),
    );
    const search = summarize(await time(() => listReports(db, orgId, { q: 'checkout crash' }, { limit: LIMIT })));
    const held = summarize(await time(() => listReports(db, orgId, { state: 'needs_review' }, { cursor, limit: LIMIT })));
    console.log(`page 1 p50 ${ms(first.p50)}, page ${DEEP_PAGE} by cursor p50 ${ms(deep.p50)}, by OFFSET ${ms(offset.p50)}`);
    console.log(`search page 1 p50 ${ms(search.p50)}, needs_review filter from the deep cursor p50 ${ms(held.p50)}`);

    printBench({ name: 'console-list/deep-page', metric: 'p50_ms', value: deep.p50, baseline: first.p50, goal: 'ratio <= 2' });
    printBench({ name: 'console-list/offset-deep-page', metric: 'p50_ms', value: offset.p50, baseline: first.p50 });
    printBench({ name: 'console-list/search-page-1', metric: 'p50_ms', value: search.p50, baseline: first.p50 });
    printBench({ name: 'console-list/state-filter-deep', metric: 'p50_ms', value: held.p50, baseline: first.p50 });
  } finally {
    await db.close();
  }
}
