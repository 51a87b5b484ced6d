// Every blob write registers its owner row (report or run, kind, creation time) in the
// transaction that stores its owner, so the lifecycle job's discovery is only a repair path.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptReport } from '../../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { getApp } from '../../src/store/apps.js';
import { listBlobsOfReport, listBlobsOfRun, markBlobsExpired, registerBlobs } from '../../src/store/blob-lifecycle.js';
import { LocalBlobStore, newId, type BlobStore, type Db } from '../../src/store/index.js';
import { insertReports } from '../../src/store/reports.js';
import { saveRunAttempt, updateRunState } from '../../src/store/runs.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('blob owner rows at write time (%s)', (kind) => {
  let db: Db;
  let dir: string;
  let blobs: BlobStore;
  let orgId: string;
  let appId: string;

  beforeEach(async () => {
    db = await openTestDb(kind);
    dir = await mkdtemp(join(tmpdir(), 'userz-blob-rows-'));
    blobs = new LocalBlobStore(dir);
    orgId = await createTestOrg(db, new Vault(db, new KeyringMasterKey(generateKeyringEntry(1))));
    appId = newId('app');
    await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [appId, orgId, 'Shop', `pub_${appId}`]);
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives each attachment accepted at intake its report's row and the report's creation time", async () => {
    const app = (await getApp(db, appId))!;
    const { report } = await acceptReport(
      { db, blobs },
      {
        app,
        source: 'widget',
        content: { text: 'The button is gone.' },
        replyTo: null,
        reporterKey: null,
        attachments: [
          { name: 'screenshot.png', contentType: 'image/png', data: Buffer.from('png bytes') },
          { name: 'console.txt', contentType: 'text/plain', data: Buffer.from('TypeError') },
        ],
        actor: 'test',
      },
    );
    const rows = await listBlobsOfReport(db, report.id);
    expect(rows.map((r) => r.key).sort()).toEqual(report.attachments.map((a) => a.blobKey).sort());
    for (const r of rows) {
      expect(r).toMatchObject({ orgId, appId, kind: 'attachment', reportId: report.id, runId: null, expiredAt: null });
      expect(r.createdAt.toISOString()).toBe(new Date(report.createdAt).toISOString());
    }
    // Nothing is left for the job's repair path to discover.
    expect(await registerBlobs(db)).toBe(0);
  });

  it('writes no row when the report transaction fails', async () => {
    const id = newId('rep');
    const attachment = { id: newId('att'), name: 'a.png', contentType: 'image/png', size: 3, blobKey: `reports/${id}/x` };
    const input = {
      id,
      orgId,
      appId,
      source: 'api' as const,
      content: { text: 'x' },
      replyTo: null,
      reporterKey: null,
      attachments: [attachment],
      statusToken: null,
    };
    await expect(
      db.transaction(async (tx) => {
        await insertReports(tx, [input], 'test');
        expect((await tx.query('SELECT 1 FROM blobs WHERE key = $1', [attachment.blobKey])).length).toBe(1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await db.query('SELECT 1 FROM blobs WHERE key = $1', [attachment.blobKey])).toEqual([]);
  });

  it("gives a run's transcript and change set the run's rows when the run names them, and a retried transcript a new life", async () => {
    const batchId = newId('bat');
    await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', now())`, [batchId, appId]);
    const runId = newId('run');
    await db.query(`INSERT INTO runs (id, org_id, app_id, batch_id, state) VALUES ($1, $2, $3, $4, 'running')`, [runId, orgId, appId, batchId]);
    const logBlob = `runs/${runId}/transcript.jsonl`;
    const changesetBlob = `runs/${runId}/changeset.json`;

    await saveRunAttempt(db, runId, logBlob, { inputTokens: 1 });
    expect((await listBlobsOfRun(db, runId)).map((r) => [r.key, r.kind, r.orgId, r.appId])).toEqual([[logBlob, 'run_log', orgId, appId]]);

    // The first attempt's transcript expired; the retry writes it again and it is live again.
    await markBlobsExpired(db, [logBlob], new Date());
    await db.transaction(async (tx) => {
      await updateRunState(tx, runId, 'running', 'checking', false, { reason: null, logBlob, changesetBlob });
    });
    const rows = await listBlobsOfRun(db, runId);
    expect(rows.map((r) => [r.key, r.kind, r.runId, r.reportId, r.expiredAt])).toEqual([
      [changesetBlob, 'changeset', runId, null, null],
      [logBlob, 'run_log', runId, null, null],
    ]);
    expect(await registerBlobs(db)).toBe(0);
  });

  it('writes no run rows when the state change does not apply', async () => {
    const batchId = newId('bat');
    await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', now())`, [batchId, appId]);
    const runId = newId('run');
    await db.query(`INSERT INTO runs (id, org_id, app_id, batch_id, state) VALUES ($1, $2, $3, $4, 'queued')`, [runId, orgId, appId, batchId]);
    expect(await updateRunState(db, runId, 'running', 'checking', false, { reason: null, logBlob: `runs/${runId}/transcript.jsonl` })).toBeNull();
    expect(await listBlobsOfRun(db, runId)).toEqual([]);
  });
});
