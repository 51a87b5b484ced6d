import { createApp } from '../../src/intake/index.js';
import { listAudit } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { consoleOrigin, postForm, signedInMember, type SignedInMember } from '../helpers/console-session.js';
import { createTestOrg } from '../helpers/db.js';
import { runOfReport, setUpCustomer } from '../pipeline/scenario.js';
import { expireBlobsOfReport, heldReport, PNG_1X1, prFailedRun, xssReportBody } from './fixtures.js';

// The inbox, report, review and run pages through the real app, signed in the real way.
describe('console report and run pages', () => {
  let app: TestApp;
  let orgA: string;
  let keyA: string;
  let member: SignedInMember;
  let stranger: SignedInMember;
  let held: { reportId: string; runId: string };
  let failed: { reportId: string; runId: string };
  let xss: { reportId: string; runId: string };

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    ({ orgId: orgA, publicKey: keyA } = await setUpCustomer(app));
    const orgB = await createTestOrg(app.deps.store.db, app.deps.vault, 'beta');
    await createApp(app.deps.store.db, app.deps.vault, { orgId: orgB, name: 'Beta app', origins: [], actor: 'test' });
    member = await signedInMember(app, { orgId: orgA, role: 'member' });
    stranger = await signedInMember(app, { orgId: orgB, role: 'owner' });
    held = await heldReport(app, keyA, {
      text: 'The avatar upload spins forever.',
      console: [{ level: 'error', message: 'TypeError: x is undefined' }],
      page: { url: 'https://shop.example/account', userAgent: 'Firefox 140' },
      reporter: { name: 'Ada', email: 'ada@shop.example' },
      attachments: [{ name: 'screenshot.png', contentType: 'image/png', data: PNG_1X1.toString('base64') }],
    });
    failed = await prFailedRun(app, orgA, keyA, { text: 'Cart total is off by one.' });
    xss = await heldReport(app, keyA, xssReportBody());
  }, 120_000);
  afterAll(async () => app.close());

  const get = (path: string, who: SignedInMember | null = member) =>
    fetch(`${app.url}${path}`, { headers: who ? { cookie: who.cookie } : {}, redirect: 'manual' });
  const page = async (path: string, who: SignedInMember = member) => {
    const r = await get(path, who);
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  it('sends a signed-out visitor of every page to /sign-in', async () => {
    for (const path of ['/', '/review', '/runs', `/reports/${held.reportId}`, `/runs/${failed.runId}`]) {
      const r = await get(path, null);
      expect([path, r.status]).toEqual([path, 303]);
      expect(r.headers.get('location')).toMatch(/^\/sign-in/);
    }
    const post = await postForm(app, `/review/${held.reportId}/approve`, { _csrf: 'x' });
    expect(post.status).toBe(303);
    expect((await runOfReport(app.deps.store.db, held.reportId))!.state).toBe('needs_review');
  });

  it('lists reports newest first with state, label, App, channel, reporter and batch, filters and searches', async () => {
    const inbox = await page('/');
    expect(inbox.status).toBe(200);
    expect(inbox.headers.get('content-security-policy')).toContain("script-src 'self'");
    const order = [xss.reportId, failed.reportId, held.reportId].map((id) => inbox.text.indexOf(`/reports/${id}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(inbox.text).toContain('Ada');
    expect(inbox.text).toContain('Shop');
    expect(inbox.text).toContain('needs review');
    const searched = await page('/?q=avatar');
    expect(searched.text).toContain(`/reports/${held.reportId}`);
    expect(searched.text).not.toContain(`/reports/${failed.reportId}`);
    const none = await page('/?state=errored');
    expect(none.text).toContain('No report matches these filters.');
    const paged = await page('/?limit=1');
    const next = /href="(\/\?[^"]*cursor=[^"]+)" rel="next"/.exec(paged.text)![1]!.replace(/&amp;/g, '&');
    const second = await page(next);
    expect(second.text).toContain(`/reports/${failed.reportId}`);
    expect(second.text).toMatch(/rel="prev"/);
  });

  it('shows a report with its console, page, reporter, screenshot, triage, batch and run', async () => {
    const r = await page(`/reports/${held.reportId}`);
    expect(r.status).toBe(200);
    for (const text of ['The avatar upload spins forever.', 'TypeError: x is undefined', 'https://shop.example/account', 'Firefox 140', 'ada@shop.example']) {
      expect(r.text).toContain(text);
    }
    expect(r.text).toContain('model_not_configured');
    expect(r.text).toContain(`href="/runs/${held.runId}"`);
    expect(r.text).toMatch(/<img class="shot" src="\/reports\/rep_[^"]+\/attachments\/att_[^"]+"/);
    expect(r.text).toContain('Approve and queue the run');
  });

  it('renders every reporter-written field as inert text', async () => {
    const r = await page(`/reports/${xss.reportId}`);
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/<script>alert|<img src=x|<svg onload|<iframe|href="javascript:|<style>@import|<meta http-equiv|<base href/i);
    expect(r.text).toContain('&lt;script&gt;alert(&#39;xss-script&#39;)&lt;/script&gt;');
    expect(r.text).toContain('&lt;img src=x onerror=alert(&#39;xss-attname&#39;)&gt;.png');
    // One script tag: the console's own.
    expect(r.text.match(/<script/g)).toHaveLength(1);
  });

  it('serves attachments with a checked type, nosniff and Content-Disposition, and says expired once removed', async () => {
    const ids = [...(await page(`/reports/${xss.reportId}`)).text.matchAll(/\/reports\/rep_[A-Za-z0-9]+\/attachments\/(att_[A-Za-z0-9]+)\?download=1/g)].map(
      (m) => m[1]!,
    );
    expect(ids).toHaveLength(3);
    const [png, txt, fake] = await Promise.all(ids.map((id) => get(`/reports/${xss.reportId}/attachments/${id}`)));
    expect(png!.headers.get('content-type')).toBe('image/png');
    expect(png!.headers.get('content-disposition')).toMatch(/^inline; filename="img_src_x_onerror_alert_xss-attname_.png"/);
    expect(Buffer.from(await png!.arrayBuffer())).toEqual(PNG_1X1);
    expect(txt!.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(txt!.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(fake!.headers.get('content-type')).toBe('application/octet-stream');
    expect(fake!.headers.get('content-disposition')).toMatch(/^attachment; filename="fake.png"/);
    for (const res of [png!, txt!, fake!]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; .*sandbox$/);
    }
    expect(txt!.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    await Promise.all([txt!.arrayBuffer(), fake!.arrayBuffer()]);
    expect((await get(`/reports/${xss.reportId}/attachments/att_nope`)).status).toBe(404);
    expect((await get(`/reports/${xss.reportId}/attachments/${ids[0]}`, null)).status).toBe(303);

    await expireBlobsOfReport(app.deps.store.db, xss.reportId);
    expect((await get(`/reports/${xss.reportId}/attachments/${ids[0]}`)).status).toBe(410);
    const after = await page(`/reports/${xss.reportId}`);
    expect(after.text.match(/class="state">expired/g)).toHaveLength(3);
  });

  it('shows a pr_failed run with the file, rule id and reason, its timeline, diff, log, tokens and cost', async () => {
    const r = await page(`/runs/${failed.runId}`);
    expect(r.status).toBe(200);
    expect(r.text).toContain('The guardrail refused this change set');
    expect(r.text).toContain('.github/workflows/ci.yml');
    expect(r.text).toContain('ci.workflows');
    expect(r.text).toContain('CI workflow files are never changed by an automatic fix.');
    for (const state of ['needs review', 'triaged', 'running', 'checking', 'pr failed']) expect(r.text).toContain(`>${state}</span>`);
    expect(r.text).toContain('+  return items.reduce((s, i) =&gt; s + i.price, 0);');
    expect(r.text).toContain('1,200 input tokens, 340 output tokens, 1 turns, $0.0123');
    expect(r.text).toContain('write_file');
    const list = await page('/runs?state=pr_failed');
    expect(list.text).toContain(`/runs/${failed.runId}`);
    expect(list.text).not.toContain(`/runs/${held.runId}`);
  });

  it('approves a held report from the review queue with CSRF, queues its run and audits the member', async () => {
    const queue = await page('/review');
    expect(queue.text).toContain(`/reports/${held.reportId}`);
    expect(queue.text).toContain('The org has no model set up');
    // Without the token, or from another site: refused, nothing changes.
    expect((await postForm(app, `/review/${held.reportId}/approve`, { _csrf: 'wrong' }, { cookie: member.cookie })).status).toBe(403);
    expect(
      (await postForm(app, `/review/${held.reportId}/approve`, { _csrf: member.csrfToken }, { cookie: member.cookie, origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect((await runOfReport(app.deps.store.db, held.reportId))!.state).toBe('needs_review');

    const r = await postForm(app, `/review/${held.reportId}/approve`, { _csrf: member.csrfToken }, { cookie: member.cookie });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`/review?done=approved&report=${held.reportId}&run=${held.runId}`);
    expect((await runOfReport(app.deps.store.db, held.reportId))!.state).toBe('triaged');
    const events = await listAudit(app.deps.store.db, { subject: held.reportId, action: 'report.review' });
    expect(events.map((e) => e.actor)).toEqual([`user:${member.userId}`]);
    const done = await page(r.headers.get('location')!);
    expect(done.text).toContain('Approved: the run is queued.');
    expect(done.text).not.toContain(`/reports/${held.reportId}"><`);
  });

  it('rejects with a reason kept on the run and shown on the run page', async () => {
    const r = await postForm(
      app,
      `/review/${xss.reportId}/reject`,
      { _csrf: member.csrfToken, reason: 'Not a bug: <b>spam</b>', from: 'report' },
      { cookie: member.cookie },
    );
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toMatch(new RegExp(`^/reports/${xss.reportId}\\?done=rejected`));
    expect((await runOfReport(app.deps.store.db, xss.reportId))!.state).toBe('rejected');
    expect((await page(`/runs/${xss.runId}`)).text).toContain('Not a bug: &lt;b&gt;spam&lt;/b&gt;');
  });

  it("gives a member of another org a 404 on every page and action for this org's ids, and changes nothing", async () => {
    const other = await heldReport(app, keyA, { text: 'Another held report.' });
    const ids = (await page(`/reports/${held.reportId}`)).text.match(/att_[A-Za-z0-9]+/)!;
    for (const path of [`/reports/${held.reportId}`, `/reports/${held.reportId}/attachments/${ids[0]}`, `/runs/${failed.runId}`, `/runs/${other.runId}`]) {
      const r = await page(path, stranger);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.text).not.toContain('avatar');
    }
    for (const path of ['/', '/review', '/runs']) {
      const r = await page(path, stranger);
      expect(r.status).toBe(200);
      for (const id of [held.reportId, other.reportId, failed.runId, other.runId]) expect(r.text).not.toContain(id);
    }
    for (const action of ['approve', 'reject']) {
      const r = await postForm(app, `/review/${other.reportId}/${action}`, { _csrf: stranger.csrfToken, reason: 'x' }, { cookie: stranger.cookie });
      expect([action, r.status]).toEqual([action, 404]);
    }
    expect((await runOfReport(app.deps.store.db, other.reportId))!.state).toBe('needs_review');
    expect(await listAudit(app.deps.store.db, { subject: other.reportId, action: 'report.review' })).toEqual([]);
  });

  it('serves only the known console assets, with their types, a long cache and nosniff', async () => {
    const css = await get('/console/assets/console.css', null);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toContain('max-age=31536000');
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    const js = await get('/console/assets/console.js', null);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    await Promise.all([css.arrayBuffer(), js.arrayBuffer()]);
    for (const path of ['/console/assets/..%2Fhtml.ts', '/console/assets/context.ts', '/console/assets/console.css.map']) {
      const r = await get(path, null);
      expect([path, r.status]).toEqual([path, 404]);
      await r.arrayBuffer();
    }
    expect(consoleOrigin(app)).toMatch(/^http/);
  });
});
