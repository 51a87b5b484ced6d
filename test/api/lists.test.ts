import { issueApiKey } from '../../src/security/index.js';
import type { Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';

let seq = 0;
const uid = (p: string) => `${p}_t${(seq++).toString().padStart(6, '0')}`;

/** An App, a batch and its run, straight in the database, created at `at` (microseconds kept). */
async function seedRun(db: Db, orgId: string, appId: string, at: string, state = 'pr_opened'): Promise<{ runId: string; batchId: string }> {
  const batchId = uid('bat');
  const runId = uid('run');
  await db.query(
    "INSERT INTO batches (id, app_id, fingerprint, summary, report_count, open_until, created_at) VALUES ($1, $2, 'fp', 'Cart is empty', 1, $3, $3)",
    [batchId, appId, at],
  );
  await db.query('INSERT INTO runs (id, org_id, app_id, batch_id, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    runId,
    orgId,
    appId,
    batchId,
    state,
    at,
  ]);
  return { runId, batchId };
}

async function seedApp(db: Db, orgId: string, at = new Date().toISOString()): Promise<string> {
  const id = uid('app');
  await db.query('INSERT INTO apps (id, org_id, name, public_key, created_at) VALUES ($1, $2, $3, $4, $5)', [id, orgId, `App ${id}`, `pub_${id}`, at]);
  return id;
}

/** Walks a list to its end, calling `between` after each page. */
async function walk(client: ApiClient, key: string, path: string, between: () => Promise<void> = async () => undefined): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await client.call('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, { key });
    expect(res.status).toBe(200);
    ids.push(...res.json.items.map((i: { id: string }) => i.id));
    cursor = res.json.nextCursor;
    if (!cursor) return ids;
    await between();
  }
  throw new Error('the list did not end');
}

describe.each(DB_KINDS)('API lists (%s)', (kind) => {
  let app: TestApp;
  let client: ApiClient;
  let db: Db;
  let orgA: string;
  let orgB: string;
  let keyA: string;
  let keyB: string;
  let appA1: string;
  let appA2: string;
  const runsA: string[] = [];
  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    db = app.deps.store.db;
    orgA = await createTestOrg(db, app.deps.vault, 'A');
    orgB = await createTestOrg(db, app.deps.vault, 'B');
    keyA = (await issueApiKey(db, orgA, { actor: 'test', scopes: ['read'] })).key;
    keyB = (await issueApiKey(db, orgB, { actor: 'test', scopes: ['read'] })).key;
    appA1 = await seedApp(db, orgA, '2026-01-01T00:00:00.000Z');
    appA2 = await seedApp(db, orgA, '2026-01-01T00:00:01.000Z');
    const appB = await seedApp(db, orgB);
    // 23 runs of which many share one millisecond (differing in microseconds), the case a millisecond cursor gets wrong.
    for (let i = 0; i < 23; i++) {
      const at = `2026-02-01T10:00:00.${String(100 + Math.floor(i / 6)).padStart(3, '0')}${String(i).padStart(3, '0')}Z`;
      runsA.push((await seedRun(db, orgA, i % 2 ? appA1 : appA2, at, i % 3 === 0 ? 'needs_review' : 'pr_opened')).runId);
    }
    await seedRun(db, orgB, appB, '2026-02-01T10:00:00.100500Z');
    client = await apiClient(app.url);
  });
  afterAll(async () => app.close());

  it('walks every run exactly once, newest first, while new runs arrive between pages', async () => {
    const seen = await walk(client, keyA, '/api/v1/runs?limit=4', async () => {
      // New runs are newer than every page already given out: they never shift the walk.
      await seedRun(db, orgA, appA1, new Date().toISOString());
    });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => runsA.includes(id)).sort()).toEqual([...runsA].sort());
    // Newest first: the seeded runs come in reverse creation order.
    expect(seen.filter((id) => runsA.includes(id))).toEqual([...runsA].reverse());
  });

  it('walks batches and Apps the same way, and pages hold at most limit items', async () => {
    const batches = await walk(client, keyA, '/api/v1/batches?limit=5');
    expect(new Set(batches).size).toBe(batches.length);
    expect(batches.length).toBeGreaterThanOrEqual(23);
    const apps = await walk(client, keyA, '/api/v1/apps?limit=1');
    expect(apps).toEqual([appA2, appA1]);
    const page = await client.call('GET', '/api/v1/runs?limit=100', { key: keyA });
    expect(page.json.items.length).toBeLessThanOrEqual(100);
  });

  it('filters runs by state, App and time, and batches by App', async () => {
    const held = await walk(client, keyA, '/api/v1/runs?state=needs_review&limit=100');
    expect(held.sort()).toEqual(runsA.filter((_, i) => i % 3 === 0).sort());
    const ofApp1 = await client.call('GET', `/api/v1/runs?app=${appA1}&limit=100`, { key: keyA });
    expect(ofApp1.json.items.every((r: { appId: string }) => r.appId === appA1)).toBe(true);
    const late = await client.call('GET', '/api/v1/runs?since=2026-02-01T10:00:00.103000Z&until=x'.replace('&until=x', '') + '&limit=100', { key: keyA });
    expect(late.json.items.every((r: { createdAt: string }) => r.createdAt >= '2026-02-01T10:00:00.103Z')).toBe(true);
    expect(late.json.items.length).toBeGreaterThan(0);
    const batches = await client.call('GET', `/api/v1/batches?app=${appA2}&limit=100`, { key: keyA });
    expect(batches.json.items.length).toBe(12);
    expect(batches.json.items.every((b: { appId: string }) => b.appId === appA2)).toBe(true);
  });

  it('lists repositories with forge and active filters', async () => {
    await db.query("INSERT INTO repos (id, org_id, forge, external_id, full_name) VALUES ('repo_t1', $1, 'github', '1', 'acme/shop')", [orgA]);
    await db.query("INSERT INTO repos (id, org_id, forge, external_id, full_name, removed_at) VALUES ('repo_t2', $1, 'gitlab', '2', 'acme/old', now())", [
      orgA,
    ]);
    const all = await client.call('GET', '/api/v1/repos', { key: keyA });
    expect(all.json.items.map((r: { id: string }) => r.id).sort()).toEqual(['repo_t1', 'repo_t2']);
    const active = await client.call('GET', '/api/v1/repos?active=true', { key: keyA });
    expect(active.json.items.map((r: { fullName: string }) => r.fullName)).toEqual(['acme/shop']);
    const gitlab = await client.call('GET', '/api/v1/repos?forge=gitlab', { key: keyA });
    expect(gitlab.json.items.map((r: { active: boolean }) => r.active)).toEqual([false]);
    expect((await client.call('GET', '/api/v1/repos/repo_t1', { key: keyA })).json).toMatchObject({ fullName: 'acme/shop', active: true });
  });

  it('refuses bad query parameters with 400 invalid_payload and a message naming them', async () => {
    for (const [query, words] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['state=broken', 'state'],
      ['since=yesterday', 'since'],
      ['colour=red', 'colour'],
      ['limit=5&limit=6', 'more than once'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ] as const) {
      const res = await client.call('GET', `/api/v1/runs?${query}`, { key: keyA });
      expect([query, res.status, res.json.error.code]).toEqual([query, 400, 'invalid_payload']);
      expect(res.json.error.message).toContain(words);
    }
  });

  it("keeps orgs apart: org B's key sees none of org A's items and gets 404 for their ids", async () => {
    const bRuns = await walk(client, keyB, '/api/v1/runs?limit=100');
    expect(bRuns.filter((id) => runsA.includes(id))).toEqual([]);
    expect(bRuns).toHaveLength(1);
    const [aBatch] = (await client.call('GET', '/api/v1/batches?limit=1', { key: keyA })).json.items;
    for (const [path, code] of [
      [`/api/v1/batches/${aBatch.id}`, 'batch_not_found'],
      [`/api/v1/apps/${appA1}`, 'app_not_found'],
      ['/api/v1/repos/repo_t1', 'repo_not_found'],
    ] as const) {
      const res = await client.call('GET', path, { key: keyB });
      expect([path, res.status, res.json.error.code]).toEqual([path, 404, code]);
      expect((await client.call('GET', path, { key: keyA })).status).toBe(200);
    }
    const aKeys = (await client.call('GET', '/api/v1/api-keys', { key: keyA })).json.items as Array<{ id: string }>;
    const bKeys = (await client.call('GET', '/api/v1/api-keys', { key: keyB })).json.items as Array<{ id: string }>;
    expect(bKeys.some((k) => aKeys.some((a) => a.id === k.id))).toBe(false);
    expect((await client.call('GET', `/api/v1/api-keys/${aKeys[0]!.id}`, { key: keyB })).status).toBe(404);
    // Even an admin key of B cannot revoke A's key.
    const adminB = (await issueApiKey(db, orgB, { actor: 'test' })).key;
    const revoke = await client.call('DELETE', `/api/v1/api-keys/${aKeys[0]!.id}`, { key: adminB });
    expect([revoke.status, revoke.json.error.code]).toEqual([404, 'api_key_not_found']);
    expect((await client.call('GET', '/api/v1/runs?limit=1', { key: keyA })).status).toBe(200);
  });

  it('lists reports with state, channel, App, label and text filters, and walks them once', async () => {
    const reportIds: string[] = [];
    for (let i = 0; i < 9; i++) {
      const id = uid('rep');
      reportIds.push(id);
      await db.query(
        `INSERT INTO reports (id, org_id, app_id, source, content, status, classification, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          orgA,
          i < 6 ? appA1 : appA2,
          i % 3 === 0 ? 'slack' : 'widget',
          JSON.stringify({ text: i === 4 ? 'The checkout button is grey' : `Report number ${i}`, reporter: { id: `u${i}` } }),
          i % 2 ? 'needs_review' : 'triaged',
          JSON.stringify({ classification: { label: i === 8 ? 'spam' : 'benign' } }),
          `2026-03-01T08:00:00.000${i}00Z`,
        ],
      );
    }
    const walked = await walk(client, keyA, '/api/v1/reports?limit=2');
    expect(walked).toEqual([...reportIds].reverse());
    const held = await client.call('GET', '/api/v1/reports?state=needs_review', { key: keyA });
    expect(held.json.items.map((r: { id: string }) => r.id).sort()).toEqual(reportIds.filter((_, i) => i % 2).sort());
    const slack = await client.call('GET', `/api/v1/reports?channel=slack&app=${appA1}`, { key: keyA });
    expect(slack.json.items.map((r: { id: string }) => r.id).sort()).toEqual([reportIds[0], reportIds[3]].sort());
    const spam = await client.call('GET', '/api/v1/reports?label=spam', { key: keyA });
    expect(spam.json.items.map((r: { id: string }) => r.id)).toEqual([reportIds[8]]);
    const found = await client.call('GET', '/api/v1/reports?q=checkout', { key: keyA });
    expect(found.json.items.map((r: { excerpt: string }) => r.excerpt)).toEqual(['The checkout button is grey']);
    expect((await client.call('GET', '/api/v1/reports', { key: keyB })).json.items).toEqual([]);
    expect((await client.call('GET', '/api/v1/reports?state=lost', { key: keyA })).status).toBe(400);
  });

  it("lists the org's audit log with filters, reads one event, and keeps other orgs' events apart", async () => {
    const created = await client.call('GET', '/api/v1/audit-events?action=api_key.create', { key: keyA });
    expect(created.json.items.length).toBeGreaterThan(0);
    expect(created.json.items.every((e: { action: string }) => e.action === 'api_key.create')).toBe(true);
    const prefixed = await client.call('GET', '/api/v1/audit-events?action=api_key.*&from=2020-01-01T00:00:00Z', { key: keyA });
    expect(prefixed.json.items.length).toBe(created.json.items.length);
    const first = created.json.items[0] as { id: string };
    expect((await client.call('GET', `/api/v1/audit-events/${first.id}`, { key: keyA })).json).toMatchObject({ id: first.id, action: 'api_key.create' });
    const foreign = await client.call('GET', `/api/v1/audit-events/${first.id}`, { key: keyB });
    expect([foreign.status, foreign.json.error.code]).toEqual([404, 'audit_event_not_found']);
    const bIds = (await walk(client, keyB, '/api/v1/audit-events?limit=3')) as string[];
    expect(bIds).not.toContain(first.id);
  });

  it('shows one batch with its report ids', async () => {
    const [batch] = (await client.call('GET', '/api/v1/batches?limit=1', { key: keyA })).json.items;
    const one = await client.call('GET', `/api/v1/batches/${batch.id}`, { key: keyA });
    expect(one.json).toMatchObject({ id: batch.id, summary: 'Cart is empty', reportIds: [], run: { state: expect.any(String) } });
  });
});
