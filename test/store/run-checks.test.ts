import { getRunChecks, insertOrg, newId, saveRunChecks, type Db, type RunChecks } from '../../src/store/index.js';
import { openTestDb } from '../helpers/db.js';

describe.each(['pglite', 'postgres'] as const)('run_checks on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb(kind);
  });
  afterAll(async () => db.close());

  async function aRun(): Promise<string> {
    const org = await insertOrg(db, `acme-${newId('app').slice(-8)}`, 'test');
    const appId = newId('app');
    const batchId = newId('bat');
    const runId = newId('run');
    await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [appId, org.id, 'Shop', `pub_${appId}`]);
    await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', now())`, [batchId, appId]);
    await db.query(`INSERT INTO runs (id, org_id, app_id, batch_id, state) VALUES ($1, $2, $3, $4, 'running')`, [runId, org.id, appId, batchId]);
    return runId;
  }

  it('keeps each command’s exit code and output tail and the reproduction, and a repeated agent phase replaces them', async () => {
    const runId = await aRun();
    expect(await getRunChecks(db, runId)).toBeNull();
    const first: RunChecks = {
      runId,
      status: 'failed',
      requirePassing: true,
      setup: [{ command: 'npm ci', exitCode: 0, timedOut: false, outputTail: 'added 1 package', durationMs: 900 }],
      commands: [{ command: 'npm test', exitCode: 1, timedOut: false, outputTail: 'not ok 1 – total\n', durationMs: 1200 }],
      agentRequests: 2,
      reproduced: false,
      reproduction: { testPath: 'test/a.test.js', before: [], after: [], note: 'the test does not pass with the change' },
      setupMs: 900.4,
      checksMs: 2400.6,
    };
    await saveRunChecks(db, first);
    expect(await getRunChecks(db, runId)).toEqual({ ...first, setupMs: 900, checksMs: 2401 });
    const again: RunChecks = { ...first, status: 'passed', reproduced: true, reproduction: null, commands: [], setupMs: 1, checksMs: 2 };
    await saveRunChecks(db, again);
    expect(await getRunChecks(db, runId)).toEqual(again);
  });

  it('refuses a status outside the four', async () => {
    const runId = await aRun();
    await expect(db.query(`INSERT INTO run_checks (run_id, status) VALUES ($1, 'green')`, [runId])).rejects.toThrow();
  });
});
