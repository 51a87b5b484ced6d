import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { insertWebhookAttempt, linkInstallationToOrg, recordAudit, upsertRepo } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { consoleOrigin, signedInMember, type SignedInMember } from '../helpers/console-session.js';
import { createTestOrg } from '../helpers/db.js';
import { launchChromium } from '../helpers/browser.js';

// Issue 13 pages 5-8 and the settings (issue 15, 19) in Chromium: each page as an owner sees
// it, with its forms used by keyboard and mouse, screenshots to look at, and axe.
const SHOTS = join(process.cwd(), '.jest-cache', 'screenshots', 'console');

describe('console admin pages in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let owner: SignedInMember;
  let orgId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startTestApp({ db: 'pglite', env: { DISCORD_APPLICATION_ID: '1234567', DISCORD_PUBLIC_KEY: 'ab'.repeat(32) } });
    orgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'Acme Shop');
    owner = await signedInMember(app, { orgId, role: 'owner', email: 'olivia@shop.example', name: 'Olivia Owner' });
    await recordAudit(app.deps.store.db, { actor: '=cmd|calc', action: 'report.reject', orgId, subject: 'rep_demo', data: { reason: 'spam, "obviously"' } });
    const db = app.deps.store.db;
    await upsertRepo(db, { forge: 'github', externalId: '9001', fullName: 'acme/shop-web', installationId: 77, defaultBranch: 'main' }, 'test');
    await upsertRepo(db, { forge: 'github', externalId: '9002', fullName: 'acme/shop-api', installationId: 77, defaultBranch: 'trunk' }, 'test');
    await db.transaction((tx) => linkInstallationToOrg(tx, { installationId: 77, orgId, actor: 'cli', allowMove: false }));
    await upsertRepo(
      db,
      { orgId, forge: 'gitlab', externalId: '42', fullName: 'acme/mobile', baseUrl: 'https://gitlab.example.com', defaultBranch: 'main' },
      'test',
    );
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signedInPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    const [name, ...value] = owner.cookie.split('=');
    await context.addCookies([{ name: name!, value: value.join('='), url: app.url }]);
    // The browser reaches the test server on 127.0.0.1 while the console's public URL (the
    // origin its CSRF check expects) is the configured one: forms are sent as from there.
    const publicOrigin = consoleOrigin(app);
    await context.route('**/*', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      // Chromium keeps its own Origin on an intercepted request, so the post is sent from here, as the browser sent it plus that Origin.
      const response = await route.fetch({ headers: { ...(await route.request().allHeaders()), origin: publicOrigin }, maxRedirects: 0 });
      await route.fulfill({ response });
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return { context, page, errors };
  }

  async function check(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `admin-${name}.png`), fullPage: true });
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect([name, serious]).toEqual([name, []]);
  }

  it('creates an App by keyboard, copies its snippet, and shows every admin page without serious accessibility violations', async () => {
    const { context, page, errors } = await signedInPage();
    await page.goto(`${app.url}/apps`);
    await check(page, 'apps-empty');

    // Keyboard only: focus the name field, type, tab to the origins, type, submit with Enter on the button.
    await page.getByLabel('Name').focus();
    await page.keyboard.type('Demo shop');
    await page.keyboard.press('Tab');
    await page.keyboard.type('https://shop.example');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Create App');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await page.locator('#signing-secret').innerText()).toMatch(/^uzsig_/);
    await check(page, 'app-created');
    const appLink = await page.getByRole('link', { name: /Open Demo shop/ }).getAttribute('href');

    await page.goto(`${app.url}/apps`);
    await check(page, 'apps');
    await page.goto(`${app.url}${appLink}`);
    await page.locator('button[data-copy="snippet"]').click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toMatch(/^<script src="[^"]+\/widget\.js" data-userz-key="pub_[0-9A-Za-z]{24}" async><\/script>$/);
    await check(page, 'app');

    await page.getByRole('button', { name: 'Get a Discord link code' }).click();
    expect(await page.locator('#link-command').innerText()).toMatch(/^\/userz link code:UZL/);
    await check(page, 'app-discord-code');

    await page.goto(`${app.url}/repos`);
    expect(await page.locator('main').innerText()).toContain('acme/shop-api');
    await check(page, 'repos');

    await page.goto(`${app.url}/api-keys`);
    await page.getByLabel('Label').fill('Status dashboard');
    await page.getByRole('button', { name: 'Create key' }).click();
    expect(await page.locator('#api-key').innerText()).toMatch(/^sk_/);
    await check(page, 'api-key-created');
    await page.goto(`${app.url}/api-keys`);
    await check(page, 'api-keys');

    await page.goto(`${app.url}/settings`);
    await page.getByLabel('HTTPS URL').fill('https://hooks.example.com/userz');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    expect(await page.locator('#webhook-signing-secret').innerText()).toMatch(/\S{20,}/);
    await check(page, 'webhook-created');
    const [endpoint] = await app.deps.store.db.query<{ id: string }>('SELECT id FROM webhook_endpoints WHERE org_id = $1', [orgId]);
    const attempt = { orgId, endpointId: endpoint!.id, deliveryId: 'dlv_demo', eventId: 'evt_demo', eventType: 'run.pr_opened' };
    await insertWebhookAttempt(app.deps.store.db, { ...attempt, attempt: 1, statusCode: 503, error: 'Service Unavailable', delivered: false, final: false });
    await insertWebhookAttempt(app.deps.store.db, { ...attempt, attempt: 2, statusCode: 200, error: null, delivered: true, final: true });
    await page.goto(`${app.url}/settings`);
    await check(page, 'settings');
    await page.getByRole('link', { name: 'Delivery log' }).click();
    await check(page, 'webhook-deliveries');

    await page.goto(`${app.url}/audit`);
    await check(page, 'audit');
    await page.getByLabel('Action').fill('app.*');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/action=app/);
    await check(page, 'audit-filtered');

    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
