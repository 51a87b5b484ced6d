import type { Db } from '../../src/store/index.js';

let seq = 0;
const uid = (p: string) => `${p}_s${process.pid}x${(seq++).toString().padStart(5, '0')}`;

/** An App of the org, straight in the database. */
export async function seedApp(db: Db, orgId: string): Promise<string> {
  const id = uid('app');
  await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [id, orgId, `App ${id}`, `pub_${id}`]);
  return id;
}

/** A batch with one report and its run in `state` (on `repoId`, or none), straight in the database. */
export async function seedRun(db: Db, orgId: string, appId: string, state = 'triaged', repoId: string | null = null): Promise<string> {
  const batchId = uid('bat');
  const runId = uid('run');
  await db.query("INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', now())", [batchId, appId]);
  await db.query("INSERT INTO reports (id, org_id, app_id, source, content, batch_id, status) VALUES ($1, $2, $3, 'widget', $4, $5, 'triaged')", [
    uid('rep'),
    orgId,
    appId,
    JSON.stringify({ text: 'The checkout button does nothing.' }),
    batchId,
  ]);
  await db.query('INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state) VALUES ($1, $2, $3, $4, $5, $6)', [
    runId,
    orgId,
    appId,
    batchId,
    repoId,
    state,
  ]);
  return runId;
}

/** A widget report of the org's App, straight in the database, waiting for triage. */
export async function seedReport(db: Db, orgId: string, appId: string, text: string): Promise<string> {
  const id = uid('rep');
  await db.query("INSERT INTO reports (id, org_id, app_id, source, content) VALUES ($1, $2, $3, 'widget', $4)", [id, orgId, appId, JSON.stringify({ text })]);
  return id;
}
