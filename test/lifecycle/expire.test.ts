// Blob expiry across the 30-day boundary with a fake clock, on PGlite and Postgres, with
// real blobs in a local directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expireBlobs, runLifecycleJob } from '../../src/lifecycle/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { claimJobs, LocalBlobStore, newId, type BlobStore, type Db } from '../../src/store/index.js';
import { ensureLifecycleJob, listBlobsOfReport, listBlobsOfRun, setAppRetention, setReportRetention, setRunRetention } from '../../src/store/blob-lifecycle.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';

const DAY = 86_400_000;
const T0 = new Date('2026-03-01T12:00:00Z');
const at = (ms: number) => () => new Date(T0.getTime() + ms);
const log = pino({ level: 'silent' });

async function seedApp(db: Db, orgId: string): Promise<string> {
  const id = newId('app');
  await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [id, orgId, 'Shop', `pub_${id}`]);
  return id;
}

/** A report created at `created` with `n` attachments whose bytes are in the store. */
async function seedReport(db: Db, blobs: BlobStore, orgId: string, appId: string, created: Date, n = 1): Promise<{ id: string; keys: string[] }> {
  const id = newId('rep');
  const attachments = [];
  for (let i = 0; i < n; i++) {
    const attId = newId('att');
    const blobKey = `reports/${id}/${attId}`;
    await blobs.put(blobKey, Buffer.from(`screenshot ${i} of ${id}`));
    attachments.push({ id: attId, name: `s${i}.png`, contentType: 'image/png', size: 10, blobKey });
  }
  await db.query(`INSERT INTO reports (id, org_id, app_id, source, content, attachments, created_at) VALUES ($1, $2, $3, 'widget', '{"text":"x"}', $4, $5)`, [
    id,
    orgId,
    appId,
    JSON.stringify(attachments),
    created,
  ]);
  return { id, keys: attachments.map((a) => a.blobKey) };
}

async function seedRun(db: Db, blobs: BlobStore, orgId: string, appId: string, finished: Date): Promise<{ id: string; keys: string[] }> {
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', $3)`, [batchId, appId, finished]);
  const id = newId('run');
  const logBlob = `runs/${id}/transcript.jsonl`;
  const changesetBlob = `runs/${id}/changeset.json`;
  await blobs.put(logBlob, Buffer.from('{"turn":1}\n'));
  await blobs.put(changesetBlob, Buffer.from('{"entries":[]}'));
  await db.query(
    `INSERT INTO runs (id, org_id, app_id, batch_id, state, log_blob, changeset_blob, created_at, started_at, finished_at)
     VALUES ($1, $2, $3, $4, 'pr_opened', $5, $6, $7, $7, $7)`,
    [id, orgId, appId, batchId, logBlob, changesetBlob, finished],
  );
  return { id, keys: [logBlob, changesetBlob] };
}

describe.each(DB_KINDS)('blob expiry (%s)', (kind) => {
  let db: Db;
  let dir: string;
  let blobs: BlobStore;
  let orgId: string;
  let appId: string;

  beforeEach(async () => {
    db = await openTestDb(kind);
    dir = await mkdtemp(join(tmpdir(), 'userz-expire-'));
    blobs = new LocalBlobStore(dir);
    const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgId = await createTestOrg(db, vault);
    appId = await seedApp(db, orgId);
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const exists = async (key: string) => (await blobs.get(key)) !== null;

  it('keeps blobs until 30 days have passed, then deletes them and marks their rows expired, except what is retained', async () => {
    const plain = await seedReport(db, blobs, orgId, appId, T0, 2);
    const kept = await seedReport(db, blobs, orgId, appId, T0);
    await setReportRetention(db, orgId, kept.id, true);
    const run = await seedRun(db, blobs, orgId, appId, T0);
    const retainedApp = await seedApp(db, orgId);
    await setAppRetention(db, orgId, retainedApp, true);
    const byApp = await seedReport(db, blobs, orgId, retainedApp, T0);
    const optedOut = await seedReport(db, blobs, orgId, retainedApp, T0);
    await setReportRetention(db, orgId, optedOut.id, false);
    const retainedRun = await seedRun(db, blobs, orgId, appId, T0);
    await setRunRetention(db, orgId, retainedRun.id, true);

    // One minute before the boundary: nothing goes (and every blob got its row).
    const before = await expireBlobs({ db, blobs, log, now: at(30 * DAY - 60_000) });
    expect(before).toEqual({ registered: 9, expired: 0, more: false });
    for (const k of [...plain.keys, ...run.keys]) expect(await exists(k)).toBe(true);

    const after = await expireBlobs({ db, blobs, log, now: at(30 * DAY + 60_000) });
    expect(after).toEqual({ registered: 0, expired: 5, more: false });
    for (const k of [...plain.keys, ...run.keys, ...optedOut.keys]) expect(await exists(k)).toBe(false);
    for (const k of [...kept.keys, ...byApp.keys, ...retainedRun.keys]) expect(await exists(k)).toBe(true);

    const rows = await listBlobsOfReport(db, plain.id);
    expect(rows.map((r) => [r.kind, r.expiredAt?.toISOString()])).toEqual([
      ['attachment', at(30 * DAY + 60_000)().toISOString()],
      ['attachment', at(30 * DAY + 60_000)().toISOString()],
    ]);
    expect((await listBlobsOfRun(db, run.id)).every((r) => r.expiredAt !== null)).toBe(true);
    expect((await listBlobsOfReport(db, kept.id)).every((r) => r.expiredAt === null)).toBe(true);

    // Idempotent: a second pass later finds nothing and keeps the first expiry time.
    expect(await expireBlobs({ db, blobs, log, now: at(40 * DAY) })).toEqual({ registered: 0, expired: 0, more: false });
    expect((await listBlobsOfReport(db, plain.id))[0]!.expiredAt!.toISOString()).toBe(at(30 * DAY + 60_000)().toISOString());

    // Un-retaining lets the next pass take it.
    await setReportRetention(db, orgId, kept.id, null);
    expect((await expireBlobs({ db, blobs, log, now: at(40 * DAY) })).expired).toBe(1);
    expect(await exists(kept.keys[0]!)).toBe(false);
  });

  it("follows the org's own retention", async () => {
    await db.query('UPDATE orgs SET blob_retention_days = 7 WHERE id = $1', [orgId]);
    const r = await seedReport(db, blobs, orgId, appId, T0);
    expect((await expireBlobs({ db, blobs, log, now: at(7 * DAY - 1000) })).expired).toBe(0);
    expect((await expireBlobs({ db, blobs, log, now: at(7 * DAY + 1000) })).expired).toBe(1);
    expect(await exists(r.keys[0]!)).toBe(false);
  });

  it('works in batches and resumes after a store failure without losing or repeating a row', async () => {
    const reports = [];
    for (let i = 0; i < 25; i++) reports.push(await seedReport(db, blobs, orgId, appId, new Date(T0.getTime() + i * 1000), 2));
    const now = at(31 * DAY);
    // The store fails on the 13th delete: 12 blobs are gone and marked, the pass throws.
    let deletes = 0;
    const flaky: BlobStore = Object.create(blobs, {
      delete: {
        value: async (key: string) => {
          if (++deletes === 13) throw new Error('store unavailable');
          return blobs.delete(key);
        },
      },
    });
    await expect(expireBlobs({ db, blobs: flaky, log, now }, { batch: 20 })).rejects.toThrow('store unavailable');
    const [marked] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM blobs WHERE expired_at IS NOT NULL');
    expect(marked!.n).toBe(12);

    const passes = [];
    for (let i = 0; i < 5; i++) {
      const pass = await expireBlobs({ db, blobs, log, now }, { batch: 20 });
      passes.push([pass.expired, pass.more]);
      if (!pass.more) break;
    }
    expect(passes).toEqual([
      [20, true],
      [18, false],
    ]);
    for (const r of reports) for (const k of r.keys) expect(await exists(k)).toBe(false);
    const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM blobs WHERE expired_at IS NULL');
    expect(left!.n).toBe(0);
  });

  it('runs as one recurring job in the jobs table that reschedules itself and never completes', async () => {
    await ensureLifecycleJob(db);
    await ensureLifecycleJob(db); // idempotent: still one job
    const old = new Date(Date.now() - 31 * DAY);
    const r = await seedReport(db, blobs, orgId, appId, old);
    const [job] = await claimJobs(db, { workerId: 'w1', kinds: ['lifecycle'], limit: 5, leaseMs: 60_000 });
    expect(job).toMatchObject({ kind: 'lifecycle', key: 'lifecycle:blobs' });
    const pass = await runLifecycleJob({ db, blobs, log }, job!.id);
    expect(pass).toMatchObject({ expired: 1, more: false });
    expect(await exists(r.keys[0]!)).toBe(false);
    const [row] = await db.query<{ done: boolean; locked: boolean; attempts: number; later: boolean; n: number }>(
      `SELECT done_at IS NOT NULL AS done, locked_by IS NOT NULL AS locked, attempts, run_at > now() + interval '50 minutes' AS later,
              (SELECT count(*)::int FROM jobs WHERE kind = 'lifecycle') AS n
         FROM jobs WHERE key = 'lifecycle:blobs'`,
    );
    expect(row).toEqual({ done: false, locked: false, attempts: 0, later: true, n: 1 });
    // Not due again yet.
    expect(await claimJobs(db, { workerId: 'w2', kinds: ['lifecycle'], limit: 5, leaseMs: 60_000 })).toEqual([]);
  });

  it('keeps the job alive when a pass fails, with the error for operators', async () => {
    await ensureLifecycleJob(db);
    await seedReport(db, blobs, orgId, appId, new Date(Date.now() - 31 * DAY));
    const broken: BlobStore = Object.create(blobs, { delete: { value: async () => Promise.reject(new Error('bucket gone')) } });
    const [job] = await claimJobs(db, { workerId: 'w1', kinds: ['lifecycle'], limit: 1, leaseMs: 60_000 });
    expect(await runLifecycleJob({ db, blobs: broken, log }, job!.id)).toBeNull();
    const [row] = await db.query<{ done: boolean; last_error: string }>(`SELECT done_at IS NOT NULL AS done, last_error FROM jobs WHERE id = $1`, [job!.id]);
    expect(row).toEqual({ done: false, last_error: 'bucket gone' });
  });
});
