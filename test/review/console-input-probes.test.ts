import { issueApiKey } from '../../src/security/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { postForm, signedInMember } from '../helpers/console-session.js';
import { createTestOrg } from '../helpers/db.js';

/**
 * Review probe (issue 13): the console's pages take ids, cursors and filters from the
 * address bar, which anyone can edit or link a maintainer to. An owner opening any page with
 * ids no table holds, forged cursors or odd filters gets an HTML 4xx page (or the page),
 * never a 500 from the database.
 */
const cursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('console pages with edited addresses (review probe, PGlite)', () => {
  let app: TestApp;
  let cookie: string;
  let csrfToken: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    await issueApiKey(app.deps.store.db, orgId, { actor: 'test' });
    ({ cookie, csrfToken } = await signedInMember(app, { orgId, role: 'owner' }));
  });
  afterAll(async () => app.close());

  it('answers every page with the page or a 4xx, never a 500', async () => {
    const ids = ['9999999999999999999', 'x'.repeat(3000), '%00', "'%20OR%201=1--"];
    const cursors = [cursor(['-271821-04-20T00:00:00.000Z', 'x']), cursor([new Date().toISOString(), '9999999999999999999']), '%%%', cursor([1, 2])];
    const paths = [
      ...ids.flatMap((id) => [`/reports/${id}`, `/reports/${id}/attachments/${id}`, `/runs/${id}`, `/apps/${id}`, `/settings/webhooks/${id}`]),
      ...['/', '/review', '/runs', '/audit', '/audit.csv', '/api-keys'].flatMap((p) => [
        ...cursors.map((c) => `${p}?cursor=${c}`),
        `${p}?limit=0`,
        `${p}?limit=abc`,
      ]),
      '/audit?from=-271821-04-20&to=yesterday',
      `/audit?subject=${'x'.repeat(3000)}`,
      '/audit?actor=%00',
      '/audit?subject=%00',
      '/audit?action=%00',
      '/runs?app=%00',
      '/?app=%00',
      '/?q=%00&state=nonsense&since=-271821-04-20',
      `/?q=${encodeURIComponent("')) OR 1=1 --")}`,
    ];
    const bad: Array<[string, number]> = [];
    for (const path of paths) {
      const res = await fetch(`${app.url}${path}`, { headers: { cookie }, redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status >= 500) bad.push([path.slice(0, 120), res.status]);
    }
    expect(bad).toEqual([]);
  });

  it('stores a form field with a NUL character as text (U+FFFD), as JSON bodies are, instead of a 500', async () => {
    const forms: Array<[string, Record<string, string>]> = [
      ['/api-keys', { label: 'ci\u0000key', scopes: 'read' }],
      ['/apps', { name: 'shop\u0000', origins: 'https://shop.example.com' }],
    ];
    const answers: Array<[string, number]> = [];
    for (const [path, form] of forms) {
      const res = await postForm(app, path, { ...form, _csrf: csrfToken }, { cookie });
      await res.arrayBuffer();
      answers.push([path, res.status]);
    }
    expect(answers.filter(([, status]) => status >= 500)).toEqual([]);
    const [key] = await app.deps.store.db.query<{ label: string }>("SELECT label FROM api_keys WHERE label LIKE 'ci%key'");
    expect(key?.label).toBe('ci\ufffdkey');
  });
});
