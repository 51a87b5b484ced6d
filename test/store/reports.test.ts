import { createApp } from '../../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { getReport, getReportByStatusToken, insertReport, insertReports, markReportNotified, recordReportOutcome } from '../../src/store/reports.js';
import { listAudit, newId, type Db } from '../../src/store/index.js';
import { DB_KINDS, openTestDb, createTestOrg } from '../helpers/db.js';

describe.each(DB_KINDS)('reports store on %s', (kind) => {
  let db: Db;
  let orgId: string;
  let appId: string;

  beforeEach(async () => {
    db = await openTestDb(kind);
    const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgId = await createTestOrg(db, vault, 'Acme');
    appId = (await createApp(db, vault, { orgId, name: 'A', origins: [], actor: 'test' })).app.id;
  });
  afterEach(async () => db.close());

  const newReport = (id: string) => ({
    id,
    orgId,
    appId,
    source: 'slack' as const,
    content: { text: 'Checkout button does nothing', console: [{ level: 'error' as const, message: 'TypeError', ts: 1 }] },
    replyTo: { kind: 'slack' as const, teamId: 'T1', channelId: 'C1', userId: 'U1' },
    reporterKey: 'slack:U1',
    attachments: [{ id: 'att_1', name: 'a.png', contentType: 'image/png', size: 3, blobKey: `reports/${id}/att_1` }],
    statusToken: 'rst_secret',
  });

  it('stores a report with its content, reply target and attachments, and reads it back', async () => {
    const id = newId('rep');
    await db.transaction((tx) => insertReport(tx, newReport(id), 'test'));
    const r = await getReport(db, id);
    expect(r).toMatchObject({ id, appId, orgId, source: 'slack', status: 'received', reporterKey: 'slack:U1', outcome: null });
    expect(r!.content).toEqual(newReport(id).content);
    expect(r!.replyTo).toEqual(newReport(id).replyTo);
    expect(r!.attachments).toHaveLength(1);
  });

  it('keeps only a hash of the status token and finds the report only with the right token', async () => {
    const id = newId('rep');
    await db.transaction((tx) => insertReport(tx, newReport(id), 'test'));
    const [row] = await db.query<{ status_token: string }>('SELECT status_token FROM reports WHERE id = $1', [id]);
    expect(row!.status_token).not.toContain('rst_secret');
    expect((await getReportByStatusToken(db, id, 'rst_secret'))?.id).toBe(id);
    expect(await getReportByStatusToken(db, id, 'rst_secreT')).toBeNull();
    expect(await getReportByStatusToken(db, newId('rep'), 'rst_secret')).toBeNull();
  });

  it('keeps the first outcome and records when the reporter was told', async () => {
    const id = newId('rep');
    await db.transaction((tx) => insertReport(tx, newReport(id), 'test'));
    expect(await recordReportOutcome(db, id, { kind: 'pr_opened', url: 'https://github.com/a/b/pull/1' })).toEqual({ first: true });
    expect(await recordReportOutcome(db, id, { kind: 'failed' })).toEqual({ first: false });
    await markReportNotified(db, id);
    const r = await getReport(db, id);
    expect(r!.outcome).toEqual({ kind: 'pr_opened', url: 'https://github.com/a/b/pull/1' });
    expect(r!.notifiedAt).toBeInstanceOf(Date);
  });

  it('inserts a batch of reports with one audit event each, returned in input order', async () => {
    const ids = [newId('rep'), newId('rep'), newId('rep')];
    const stored = await db.transaction((tx) =>
      insertReports(
        tx,
        ids.map((id) => ({ ...newReport(id), statusToken: `rst_${id}` })),
        'widget',
      ),
    );
    expect(stored.map((r) => r.id)).toEqual(ids);
    for (const id of ids) {
      expect((await getReportByStatusToken(db, id, `rst_${id}`))?.id).toBe(id);
      const audit = await listAudit(db, { subject: id, action: 'report.receive' });
      expect(audit).toHaveLength(1);
      expect(audit[0]!.data).toEqual({ appId, source: 'slack', attachments: 1 });
    }
  });
});
