import { csvCell } from '../../src/console/pages/csv.js';
import { recordAudit } from '../../src/store/index.js';
import { openAdminHarness, type AdminHarness } from './admin-harness.js';

describe('console audit log', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness();
    await recordAudit(h.db, {
      actor: '=HYPERLINK("https://evil.example","x")',
      action: 'report.reject',
      orgId: h.orgA,
      subject: 'rep_1',
      data: { reason: 'a,"b"\nc' },
    });
    await recordAudit(h.db, { actor: 'user:u1', action: 'app.create', orgId: h.orgA, subject: '+cmd|calc' });
    await recordAudit(h.db, { actor: 'user:u1', action: 'app.update', orgId: h.orgA, subject: '@SUM(A1)' });
    await recordAudit(h.db, { actor: 'user:u2', action: 'app.create', orgId: h.orgA, subject: '-2+3' });
    await recordAudit(h.db, { actor: 'user:zz', action: 'app.create', orgId: h.orgB, subject: 'b-secret-subject' });
  });
  afterAll(async () => h.close());

  it('escapes CSV cells and neutralises formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=A1,"x"')).toBe(`"'=A1,""x"""`);
    expect(csvCell(null)).toBe('');
  });

  it('lists the org events newest first with filters, and pages by cursor', async () => {
    const member = await h.signIn(h.orgA, 'member');
    const all = await h.get(member, '/audit');
    expect(all.status).toBe(200);
    expect(all.text.indexOf('-2+3')).toBeLessThan(all.text.indexOf('+cmd|calc'));
    expect(all.text).not.toContain('b-secret-subject');
    expect(all.text).toContain('=HYPERLINK(&quot;https://evil.example&quot;,&quot;x&quot;)');
    const byActor = await h.get(member, '/audit?actor=user%3Au1');
    expect(byActor.text).toContain('@SUM(A1)');
    expect(byActor.text).not.toContain('-2+3');
    const byPrefix = await h.get(member, '/audit?action=app.*&subject=%40SUM(A1)');
    expect((byPrefix.text.match(/<tr>/g) ?? []).length).toBe(2); // header + one event
    const future = await h.get(member, '/audit?from=2999-01-01');
    expect(future.text).toContain('No audit event matches');
    const today = new Date().toISOString().slice(0, 10);
    expect((await h.get(member, `/audit?from=${today}&to=${today}`)).text).toContain('+cmd|calc');
    const first = await h.get(member, '/audit?action=app.*&limit=2');
    const next = /href="(\/audit\?[^"]*cursor=[^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    const second = await h.get(member, next);
    expect(second.text).toContain('+cmd|calc');
    expect(second.text).not.toContain('-2+3');
    expect((await h.get(member, '/audit?from=yesterday')).status).toBe(400);
  });

  it('exports the filtered log as CSV, escaped and formula-safe, without other orgs', async () => {
    const member = await h.signIn(h.orgA, 'member');
    const res = await h.get(member, '/audit.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe('id,time,actor,action,subject,facts');
    expect(res.text).not.toContain('b-secret-subject');
    expect(res.text).toContain(",'-2+3,");
    expect(res.text).toContain(",'@SUM(A1),");
    expect(res.text).toContain(",'+cmd|calc,");
    expect(res.text).toContain(`,"'=HYPERLINK(""https://evil.example"",""x"")",report.reject,rep_1,"{""reason"":""a,\\""b\\""\\nc""}"`);
    const filtered = await h.get(member, '/audit.csv?actor=user%3Au2');
    expect(filtered.text.trim().split('\r\n')).toHaveLength(2);
  });
});
