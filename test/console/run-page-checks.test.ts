import { createApp } from '../../src/intake/index.js';
import { listAudit, recordEgressConnections, saveRunChecks, type CommandResult } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { postForm, signedInMember, type SignedInMember } from '../helpers/console-session.js';
import { createTestOrg } from '../helpers/db.js';
import { setUpCustomer } from '../pipeline/scenario.js';
import { heldReport } from './fixtures.js';

const EVIL = `<script>alert('xss-check')</script>`;

function cmd(command: string, exitCode: number | null, outputTail: string, timedOut = false): CommandResult {
  return { command, exitCode, timedOut, outputTail, durationMs: 1500 };
}

// The run page shows the repository's checks, the reproduction and the setup's egress ledger, all as text.
describe('console run and report pages: checks, egress ledger and retention', () => {
  let app: TestApp;
  let orgA: string;
  let member: SignedInMember;
  let stranger: SignedInMember;
  let proven: string;
  let unproven: string;
  let reportId: string;

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const customer = await setUpCustomer(app);
    orgA = customer.orgId;
    const orgB = await createTestOrg(app.deps.store.db, app.deps.vault, 'beta');
    await createApp(app.deps.store.db, app.deps.vault, { orgId: orgB, name: 'Beta app', origins: [], actor: 'test' });
    member = await signedInMember(app, { orgId: orgA, role: 'member' });
    stranger = await signedInMember(app, { orgId: orgB, role: 'owner' });
    const db = app.deps.store.db;
    ({ runId: proven, reportId } = await heldReport(app, customer.publicKey, { text: 'Totals are wrong.' }));
    unproven = (await heldReport(app, customer.publicKey, { text: 'Login loops.' })).runId;
    await saveRunChecks(db, {
      runId: proven,
      status: 'failed',
      requirePassing: true,
      setup: [cmd(`npm ci ${EVIL}`, 0, `added 12 packages ${EVIL}`)],
      commands: [cmd('npm test', 1, `FAIL totals.test.ts\n${EVIL}`), cmd('npm run lint', null, '', true)],
      agentRequests: 2,
      reproduced: true,
      reproduction: {
        testPath: `test/totals-${EVIL}.test.ts`,
        before: [cmd('npx jest test/totals', 1, 'before: 1 failed')],
        after: [cmd('npx jest test/totals', 0, 'after: 1 passed')],
      },
      setupMs: 1500,
      checksMs: 3000,
    });
    await saveRunChecks(db, {
      runId: unproven,
      status: 'passed',
      requirePassing: false,
      setup: [],
      commands: [cmd('make check', 0, 'ok')],
      agentRequests: 0,
      reproduced: false,
      reproduction: null,
      setupMs: 0,
      checksMs: 10,
    });
    const at = new Date('2026-12-02T04:00:00Z');
    await recordEgressConnections(db, { orgId: orgA, runId: proven }, [
      {
        host: 'packages.example',
        port: 443,
        address: '192.0.2.10',
        allowed: true,
        reason: 'allowlisted',
        bytesUp: 1234,
        bytesDown: 56789,
        startedAt: at,
        endedAt: at,
      },
      {
        host: `evil.example${EVIL}`,
        port: 80,
        address: null,
        allowed: false,
        reason: `not_allowlisted ${EVIL}`,
        bytesUp: 0,
        bytesDown: 0,
        startedAt: at,
        endedAt: at,
      },
    ]);
  }, 120_000);
  afterAll(async () => app.close());

  const page = async (path: string, who: SignedInMember) => {
    const r = await fetch(`${app.url}${path}`, { headers: { cookie: who.cookie }, redirect: 'manual' });
    return { status: r.status, text: await r.text() };
  };

  it('shows the status, each command with its exit code and escaped output, the reproduction and the ledger', async () => {
    const r = await page(`/runs/${proven}`, member);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(EVIL);
    const escaped = '&lt;script&gt;alert(&#39;xss-check&#39;)&lt;/script&gt;';
    expect(r.text).toContain('<h2 id="checks-h">Checks</h2>');
    expect(r.text).toMatch(/<span class="state bad">failed<\/span>/);
    expect(r.text).toContain('passing checks are required');
    expect(r.text).toContain(`npm ci ${escaped}`);
    expect(r.text).toContain(`added 12 packages ${escaped}`);
    expect(r.text).toContain(`FAIL totals.test.ts\n${escaped}`);
    expect(r.text).toMatch(/<td class="mono">npm test<\/td>\s*<td class="mono">1<\/td>/);
    expect(r.text).toMatch(/<td class="mono">npm run lint<\/td>\s*<td class="mono">timed out<\/td>/);
    expect(r.text).toContain('A test that reproduces the report failed before this change and passes with it.');
    expect(r.text).not.toContain('The fix is unproven');
    expect(r.text).toContain(`test/totals-${escaped}.test.ts`);
    expect(r.text).toContain('before: 1 failed');
    expect(r.text).toContain('after: 1 passed');
    expect(r.text).toContain('<h2 id="egress-h">Network during setup</h2>');
    expect(r.text).toMatch(
      /packages\.example<\/td>\s*<td class="mono">443<\/td>\s*<td><span class="state good">allowed<\/span><\/td>\s*<td class="mono">allowlisted<\/td>\s*<td>1,234 \/ 56,789<\/td>/,
    );
    expect(r.text).toContain(`evil.example${escaped}`);
    expect(r.text).toMatch(/<span class="state bad">refused<\/span><\/td>\s*<td class="mono">not_allowlisted &lt;script/);
  });

  it('says the fix is unproven without a reproduction, and that no connections were asked for', async () => {
    const r = await page(`/runs/${unproven}`, member);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<span class="state good">passed<\/span>/);
    expect(r.text).toContain('The fix is unproven: no test that reproduces the report failed before this change and passes with it.');
    expect(r.text).toContain('Setup: none.');
    expect(r.text).toContain('No connections were asked for.');
  });

  it("gives another org's member a 404 for this org's run and shows none of its checks", async () => {
    const r = await page(`/runs/${proven}`, stranger);
    expect(r.status).toBe(404);
    expect(r.text).not.toContain('totals');
    expect(r.text).not.toContain('packages.example');
  });

  const retainedOf = async (table: 'reports' | 'runs', id: string) =>
    (await app.deps.store.db.query<{ retained: boolean | null }>(`SELECT retained FROM ${table} WHERE id = $1`, [id]))[0]!.retained;

  it('lets a member keep, expire or follow the App for a report and a run, audited, through the page with its CSRF token', async () => {
    const before = await page(`/reports/${reportId}`, member);
    expect(before.text).toContain('<h2 id="retention-h">Retention</h2>');
    expect(before.text).toContain('follow the App, which lets them expire');
    expect(before.text).toMatch(/<option value="app" selected>/);
    const kept = await postForm(app, `/reports/${reportId}/retention`, { _csrf: member.csrfToken, retained: 'keep' }, { cookie: member.cookie });
    expect(kept.status).toBe(303);
    expect(kept.headers.get('location')).toBe(`/reports/${reportId}?retention=set`);
    expect(await retainedOf('reports', reportId)).toBe(true);
    const after = await page(`/reports/${reportId}?retention=set`, member);
    expect(after.text).toContain('Retention saved.');
    expect(after.text).toContain('are kept past the org&#39;s retention.');
    expect(after.text).toMatch(/<option value="keep" selected>/);

    const expire = await postForm(app, `/runs/${proven}/retention`, { _csrf: member.csrfToken, retained: 'expire' }, { cookie: member.cookie });
    expect(expire.status).toBe(303);
    expect(await retainedOf('runs', proven)).toBe(false);
    expect((await page(`/runs/${proven}`, member)).text).toMatch(/<option value="expire" selected>/);
    await postForm(app, `/runs/${proven}/retention`, { _csrf: member.csrfToken, retained: 'app' }, { cookie: member.cookie });
    expect(await retainedOf('runs', proven)).toBeNull();

    const audit = await listAudit(app.deps.store.db, { orgId: orgA });
    const set = audit.filter((e) => e.action.endsWith('.retention_set')).map((e) => [e.action, e.subject, e.data.retained, e.actor]);
    expect(set).toEqual(
      expect.arrayContaining([
        ['report.retention_set', reportId, true, `user:${member.userId}`],
        ['run.retention_set', proven, false, `user:${member.userId}`],
        ['run.retention_set', proven, null, `user:${member.userId}`],
      ]),
    );
  });

  it('changes nothing without the CSRF token, for an unknown choice, or for another org (404)', async () => {
    await postForm(app, `/runs/${unproven}/retention`, { _csrf: member.csrfToken, retained: 'keep' }, { cookie: member.cookie });
    expect(await retainedOf('runs', unproven)).toBe(true);
    const noCsrf = await postForm(app, `/runs/${unproven}/retention`, { retained: 'expire' }, { cookie: member.cookie });
    expect(noCsrf.status).toBe(403);
    const odd = await postForm(app, `/runs/${unproven}/retention`, { _csrf: member.csrfToken, retained: 'forever' }, { cookie: member.cookie });
    expect(odd.status).toBe(303);
    for (const path of [`/runs/${unproven}/retention`, `/reports/${reportId}/retention`]) {
      const r = await postForm(app, path, { _csrf: stranger.csrfToken, retained: 'expire' }, { cookie: stranger.cookie });
      expect([path, r.status]).toEqual([path, 404]);
    }
    expect(await retainedOf('runs', unproven)).toBe(true);
    expect(await retainedOf('reports', reportId)).toBe(true);
  });
});
