import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { listAuditEvents, recordAudit, type Db } from '../../src/store/index.js';
import { DB_KINDS, createTestOrg, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('listAuditEvents on %s', (kind) => {
  let db: Db;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    db = await openTestDb(kind);
    const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgA = await createTestOrg(db, vault, 'A');
    orgB = await createTestOrg(db, vault, 'B');
    for (let i = 0; i < 7; i++)
      await recordAudit(db, { actor: i % 2 ? 'user:u1' : 'cli', action: i < 4 ? 'app.create' : 'api_key.create', orgId: orgA, subject: `s${i}` });
    await recordAudit(db, { actor: 'user:u1', action: 'app.create', orgId: orgB, subject: 's0' });
  });
  afterAll(async () => db.close());

  const ofA = (e: { subject: string | null }) => /^s\d$/.test(e.subject ?? '');

  it('pages one org newest first with a cursor until the last page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listAuditEvents(db, orgA, { action: 'app.*' }, { cursor, limit: 3 });
      seen.push(...page.items.map((e) => e.subject!));
      expect(page.items.every((e) => e.orgId === orgA)).toBe(true);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['s3', 's2', 's1', 's0']);
  });

  it('filters by actor, exact action, subject and time range, and never shows another org', async () => {
    expect((await listAuditEvents(db, orgA, { actor: 'user:u1' }, { limit: 50 })).items.map((e) => e.subject)).toEqual(['s5', 's3', 's1']);
    expect((await listAuditEvents(db, orgA, { action: 'api_key.create' }, { limit: 50 })).items.filter(ofA)).toHaveLength(3);
    expect((await listAuditEvents(db, orgA, { subject: 's0' }, { limit: 50 })).items).toHaveLength(1);
    expect((await listAuditEvents(db, orgB, { subject: 's0' }, { limit: 50 })).items.map((e) => e.orgId)).toEqual([orgB]);
    const future = new Date(Date.now() + 3600_000);
    expect((await listAuditEvents(db, orgA, { from: future }, { limit: 50 })).items).toEqual([]);
    expect((await listAuditEvents(db, orgA, { to: future, subject: 's6' }, { limit: 50 })).items).toHaveLength(1);
  });

  it('treats % and _ in an action prefix as text, and refuses a forged cursor', async () => {
    expect((await listAuditEvents(db, orgA, { action: '%.*' }, { limit: 50 })).items).toEqual([]);
    await expect(
      listAuditEvents(db, orgA, {}, { cursor: Buffer.from('["2020-01-01T00:00:00.000Z","1 OR 1=1"]').toString('base64url'), limit: 5 }),
    ).rejects.toMatchObject({
      code: 'invalid_payload',
    });
  });
});
