import { enqueueJob, enqueueJobs, type Db } from '../../src/store/index.js';
import { DB_KINDS, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('enqueueJobs on %s', (kind) => {
  let db: Db;

  beforeEach(async () => {
    db = await openTestDb(kind);
  });
  afterEach(async () => db.close());

  const jobRows = () =>
    db.query<{ kind: string; key: string; payload: Record<string, unknown>; max_attempts: number; done_at: Date | null }>(
      'SELECT kind, key, payload, max_attempts, done_at FROM jobs ORDER BY key',
    );

  it('enqueues every job in one statement with its payload as JSON, like enqueueJob one by one', async () => {
    await db.transaction((tx) =>
      enqueueJobs(tx, 'triage', [
        { key: 'triage:rep_a', payload: { reportId: 'rep_a' } },
        { key: 'triage:rep_b', payload: { reportId: 'rep_b', note: 'quote \' and "' } },
      ]),
    );
    await enqueueJob(db, 'triage', 'triage:rep_c', { reportId: 'rep_c' });
    expect(await jobRows()).toEqual([
      { kind: 'triage', key: 'triage:rep_a', payload: { reportId: 'rep_a' }, max_attempts: 5, done_at: null },
      { kind: 'triage', key: 'triage:rep_b', payload: { reportId: 'rep_b', note: 'quote \' and "' }, max_attempts: 5, done_at: null },
      { kind: 'triage', key: 'triage:rep_c', payload: { reportId: 'rep_c' }, max_attempts: 5, done_at: null },
    ]);
  });

  it('skips a key that already exists and keeps its payload, and enqueues the others', async () => {
    await enqueueJob(db, 'triage', 'triage:rep_a', { reportId: 'first' });
    await enqueueJobs(db, 'triage', [
      { key: 'triage:rep_a', payload: { reportId: 'second' } },
      { key: 'triage:rep_b', payload: { reportId: 'rep_b' } },
    ]);
    expect((await jobRows()).map((r) => [r.key, r.payload])).toEqual([
      ['triage:rep_a', { reportId: 'first' }],
      ['triage:rep_b', { reportId: 'rep_b' }],
    ]);
  });

  it('does nothing for no jobs', async () => {
    await enqueueJobs(db, 'triage', []);
    expect(await jobRows()).toEqual([]);
  });
});
