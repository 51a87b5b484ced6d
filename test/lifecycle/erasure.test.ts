// Deletion on request, tested the strict way: after deleting a reporter (then an App, then
// an org), every text and JSON column of every table and every blob is scanned for the
// subject's identifiers and texts. Zero hits, while everyone else's data is intact.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';
import { createApp } from '../../src/intake/index.js';
import { opsDeps } from '../../src/main.js';
import { runOperation } from '../../src/ops/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { listAudit, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { ORIGIN, postWidgetReport, setUpCustomer } from '../pipeline/scenario.js';

interface Person {
  id: string;
  email: string;
  /** Strings that only this person's data contains. */
  markers: string[];
}

const person = (name: string): Person => ({
  id: `${name}-id-4471`,
  email: `${name}.person@example.org`,
  markers: [
    `${name}-id-4471`,
    `${name}.person@example.org`,
    `${name}-text-zebra`,
    `${name}-console-quartz`,
    `${name}-page-path`,
    `${name.toUpperCase()}-PIXELS`,
  ],
});

const alice = person('alice');
const bob = person('bob');
const carol = person('carol');
const dave = person('dave');

/** Every (table, column) of text or JSON type in the current schema. */
async function textColumns(db: Db): Promise<Array<{ table: string; column: string }>> {
  const rows = await db.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** Where each needle still appears: "table.column" for rows, "blob:key" for blobs. */
async function scan(app: TestApp, needles: string[]): Promise<string[]> {
  const { db, blobs } = app.deps.store;
  const hits: string[] = [];
  for (const { table, column } of await textColumns(db)) {
    for (const needle of needles) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE strpos(lower("${column}"::text), lower($1)) > 0`, [needle]);
      if (row!.n > 0) hits.push(`${table}.${column}: ${needle}`);
    }
  }
  for (const entry of await blobs.list('')) {
    const text = (await blobs.get(entry.key))!.toString('utf8').toLowerCase();
    for (const needle of needles) if (text.includes(needle.toLowerCase())) hits.push(`blob:${entry.key}: ${needle}`);
  }
  return hits;
}

async function report(app: TestApp, publicKey: string, who: Person, n: number): Promise<string> {
  const { id } = await postWidgetReport(app.url, publicKey, {
    text: `Checkout fails for me (${who.markers[2]} #${n}), reach me at ${who.email}`,
    console: [
      { level: 'error', message: `TypeError: total is undefined ${who.markers[3]}` },
      { level: 'log', message: `cart loaded for ${who.id}` },
    ],
    page: { url: `https://shop.example/${who.markers[4]}/cart?n=${n}`, userAgent: 'Mozilla/5.0' },
    reporter: { id: who.id, email: who.email, name: `${who.id} display` },
    attachments: [{ name: 'screenshot.png', contentType: 'image/png', data: Buffer.from(`${who.markers[5]} screenshot ${n}`).toString('base64') }],
  });
  await triageReport(app.deps.pipeline, id);
  return id;
}

/** A run log as the broker records it: the wrapped report text is in the transcript. */
async function giveRunLog(app: TestApp, reportId: string, text: string): Promise<string> {
  const { db, blobs } = app.deps.store;
  const [run] = await db.query<{ id: string }>('SELECT u.id FROM runs u JOIN reports r ON r.batch_id = u.batch_id WHERE r.id = $1', [reportId]);
  const key = `runs/${run!.id}/transcript.jsonl`;
  await blobs.put(key, Buffer.from(`${JSON.stringify({ role: 'user', content: `<UNTRUSTED_USER_REPORT>${text}</UNTRUSTED_USER_REPORT>` })}\n`));
  await db.query('UPDATE runs SET log_blob = $2 WHERE id = $1', [run!.id, key]);
  return run!.id;
}

describe('deletion on request', () => {
  let app: TestApp;
  let orgId: string;
  let shopKey: string;
  let secondAppId: string;
  let otherOrgId: string;
  let outDir: string;
  let sharedBatchId: string;
  const op = (name: string, input: unknown) => runOperation(opsDeps(app.deps), name, input);

  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
    outDir = await mkdtemp(join(tmpdir(), 'userz-export-'));
    const customer = await setUpCustomer(app);
    orgId = customer.orgId;
    shopKey = customer.publicKey;
    const second = await createApp(app.deps.store.db, app.deps.vault, { orgId, name: 'Blog', origins: [ORIGIN], repoId: null, actor: 'test' });
    secondAppId = second.app.id;
    otherOrgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'other');
    const otherApp = await createApp(app.deps.store.db, app.deps.vault, { orgId: otherOrgId, name: 'Other', origins: [ORIGIN], repoId: null, actor: 'test' });

    const a1 = await report(app, shopKey, alice, 1);
    await report(app, shopKey, alice, 2);
    const b1 = await report(app, shopKey, bob, 1);
    await report(app, shopKey, bob, 2);
    await report(app, second.publicKey, carol, 1);
    await report(app, otherApp.publicKey, dave, 1);
    // Alice's run transcript quotes her report; Bob's report also sits in Alice's first batch,
    // so that batch stays (re-summarised) while her text leaves it and its run log.
    await giveRunLog(app, a1, `${alice.markers[2]} ${alice.email}`);
    const [batch] = await app.deps.store.db.query<{ batch_id: string }>('SELECT batch_id FROM reports WHERE id = $1', [a1]);
    sharedBatchId = batch!.batch_id;
    await app.deps.store.db.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [b1, sharedBatchId]);
    await giveRunLog(app, b1, `${bob.markers[2]}`);
  });
  afterAll(async () => {
    await app?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('finds every identifier before deletion (the scan can see what it looks for)', async () => {
    for (const who of [alice, bob, carol, dave]) {
      const hits = await scan(app, who.markers);
      for (const m of who.markers) expect(hits.some((h) => h.endsWith(`: ${m}`))).toBe(true);
      expect(hits.some((h) => h.startsWith('blob:'))).toBe(true);
    }
  });

  it('only counts without --yes, and refuses an ambiguous subject', async () => {
    const dry = (await op('data.delete', { reporter: alice.email })) as { deleted: boolean; wouldDelete: Record<string, number> };
    expect(dry).toMatchObject({ deleted: false, wouldDelete: { reports: 2, batchesResummarised: 1 } });
    expect((await scan(app, [alice.id])).length).toBeGreaterThan(0);
    await expect(op('data.delete', { app: secondAppId, reporter: alice.id, confirm: true })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(op('data.delete', { app: 'app_nope', confirm: true })).rejects.toMatchObject({ code: 'app_not_found' });
  });

  it('deletes one reporter (by email) down to the last trace, leaving the others intact', async () => {
    const r = (await op('data.delete', { reporter: alice.email, confirm: true })) as { deleted: boolean; counts: Record<string, number> };
    expect(r.deleted).toBe(true);
    expect(r.counts).toMatchObject({ reports: 2, batchesResummarised: 1 });
    expect(r.counts.blobs).toBeGreaterThanOrEqual(3); // two screenshots and her run log

    expect(await scan(app, alice.markers)).toEqual([]);
    for (const who of [bob, carol, dave]) {
      const hits = await scan(app, who.markers);
      for (const m of who.markers) expect(hits.some((h) => h.endsWith(`: ${m}`))).toBe(true);
    }
    // The shared batch now summarises Bob's report alone.
    const [batch] = await app.deps.store.db.query<{ summary: string; report_count: number }>('SELECT summary, report_count FROM batches WHERE id = $1', [
      sharedBatchId,
    ]);
    expect(batch).toMatchObject({ report_count: 1 });
    expect(batch!.summary).toContain(bob.markers[2]);

    const events = await listAudit(app.deps.store.db, { action: 'data.deleted' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'cli', orgId: null, subject: null, data: { subjectKind: 'reporter', reports: 2 } });
  });

  it('deletes an App with its reports, blobs and secrets', async () => {
    const before = await app.deps.store.db.query('SELECT 1 FROM secrets WHERE org_id = $1', [orgId]);
    const r = (await op('data.delete', { app: secondAppId, confirm: true })) as { counts: Record<string, number> };
    expect(r.counts).toMatchObject({ apps: 1, reports: 1, secrets: 1 });
    expect(await scan(app, carol.markers)).toEqual([]);
    expect(await app.deps.store.db.query('SELECT 1 FROM apps WHERE id = $1', [secondAppId])).toEqual([]);
    expect(await app.deps.store.db.query('SELECT 1 FROM secrets WHERE org_id = $1', [orgId])).toHaveLength(before.length - 1);
    for (const m of bob.markers) expect((await scan(app, [m])).length).toBeGreaterThan(0);
  });

  it('exports an org as one archive of JSON and blobs', async () => {
    const out = join(outDir, 'acme.tar');
    const r = (await op('data.export', { org: orgId, out })) as { blobs: number; tables: Record<string, number> };
    expect(r.tables).toMatchObject({ orgs: 1, apps: 1, reports: 2 });
    const entries = new Map<string, string>();
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        entries.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve).on('error', reject);
      createReadStream(out).pipe(extract);
    });
    const data = JSON.parse(entries.get('data.json')!) as { orgId: string; tables: Record<string, Array<Record<string, unknown>>> };
    expect(data.orgId).toBe(orgId);
    expect(JSON.stringify(data.tables.reports)).toContain(bob.markers[2]);
    expect(JSON.stringify(data)).not.toContain(dave.markers[2]);
    expect(JSON.stringify(data.tables.api_keys ?? [])).not.toMatch(/"hash"|"salt"/);
    expect([...entries.keys()].filter((k) => k.startsWith('blobs/')).length).toBe(r.blobs);
    expect([...entries.values()].some((v) => v.includes(bob.markers[5]))).toBe(true);
    await expect(op('data.export', { org: orgId, out })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('deletes an org: nothing of it remains but the deletion event, and the other org is intact', async () => {
    const r = (await op('data.delete', { org: orgId, confirm: true })) as { counts: Record<string, number> };
    expect(r.counts).toMatchObject({ orgs: 1, reports: 2 });
    expect(await scan(app, bob.markers)).toEqual([]);
    // The org's id survives only in the deletion events themselves (ours, not personal data).
    expect(await scan(app, [orgId])).toEqual([`audit_events.org_id: ${orgId}`, `audit_events.subject: ${orgId}`]);
    const [left] = await app.deps.store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE (org_id = $1 OR subject = $1) AND action <> 'data.deleted'`,
      [orgId],
    );
    expect(left!.n).toBe(0);
    const hits = await scan(app, dave.markers);
    for (const m of dave.markers) expect(hits.some((h) => h.endsWith(`: ${m}`))).toBe(true);
    expect(await app.deps.store.db.query('SELECT 1 FROM orgs WHERE id = $1', [otherOrgId])).toHaveLength(1);
    const events = await listAudit(app.deps.store.db, { action: 'data.deleted' });
    expect(events.map((e) => e.data.subjectKind)).toEqual(['reporter', 'app', 'org']);
  });
});
