import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { signedInMember, type SignedInMember } from '../helpers/console-session.js';
import { setUpCustomer } from '../pipeline/scenario.js';
import { EVIL_ORIGIN, heldReport, prFailedRun, xssReportBody } from './fixtures.js';
import { launchChromium } from '../helpers/browser.js';

// Issue 13, "Report content is hostile": a report full of XSS payloads on every console page
// that shows report content, in Chromium. One browser for the file.
const SHOTS = join(process.cwd(), '.jest-cache', 'screenshots', 'console');

describe('console pages with hostile report content in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let member: SignedInMember;
  let held: { reportId: string; runId: string };
  let failed: { reportId: string; runId: string };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startTestApp({ db: 'pglite' });
    const { orgId, publicKey } = await setUpCustomer(app);
    member = await signedInMember(app, { orgId, role: 'member', email: 'maintainer@shop.example', name: 'Mia Maintainer' });
    browser = await launchChromium();
    // A real screenshot to attach: a small shop page rendered by the same browser.
    const shot = await browser.newPage({ viewport: { width: 480, height: 280 } });
    await shot.setContent(
      `<body style="font:18px sans-serif;margin:20px"><h1>Demo shop</h1><p>Cart: 3 items</p><button>Checkout</button><p style="color:#b00">Error: total is NaN</p></body>`,
    );
    const png = await shot.screenshot();
    await shot.close();
    failed = await prFailedRun(app, orgId, publicKey, xssReportBody(png));
    held = await heldReport(app, publicKey, xssReportBody(png));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  interface Watch {
    dialogs: string[];
    errors: string[];
    foreign: string[];
  }

  async function signedInPage(): Promise<{ context: BrowserContext; page: Page; watch: Watch }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, ...value] = member.cookie.split('=');
    await context.addCookies([{ name: name!, value: value.join('='), url: app.url }]);
    const page = await context.newPage();
    const watch: Watch = { dialogs: [], errors: [], foreign: [] };
    const own = new URL(app.url).origin;
    page.on('dialog', (d) => {
      watch.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error') watch.errors.push(m.text());
    });
    page.on('pageerror', (e) => watch.errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) watch.errors.push(`${r.status()} ${r.url()}`);
    });
    context.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('data:') && new URL(url).origin !== own) watch.foreign.push(url);
    });
    return { context, page, watch };
  }

  const SCRIPT_TEXT = "<script>alert('xss-script')</script>";
  /** [screenshot name, path, text the page shows from the report (null: the page shows none)] */
  const pages = (): Array<[string, string, string | null]> => [
    ['inbox', '/', SCRIPT_TEXT],
    ['inbox-search', '/?q=checkout', SCRIPT_TEXT],
    ['report', `/reports/${held.reportId}`, SCRIPT_TEXT],
    ['review', '/review', SCRIPT_TEXT],
    ['runs', '/runs', null],
    ['run-pr-failed', `/runs/${failed.runId}`, SCRIPT_TEXT],
    ['report-of-failed-run', `/reports/${failed.reportId}`, SCRIPT_TEXT],
  ];

  it('runs no injected script on any page: no dialog, no console error, no request to a foreign origin', async () => {
    for (const [name, path, shown] of pages()) {
      const { context, page, watch } = await signedInPage();
      const res = await page.goto(`${app.url}${path}`);
      expect([name, res?.status()]).toEqual([name, 200]);
      await page.waitForLoadState('load');
      // Give handlers that would fire on interaction their chance: focus every element, hover the text.
      await page.keyboard.press('Tab');
      // A page whose markup an injection broke may have no hoverable main: that counts too.
      await page
        .locator('main')
        .hover({ timeout: 5_000 })
        .catch(() => watch.errors.push('main is not on the page as built'));
      for (const img of await page.locator('img').all()) await img.evaluate((el: HTMLImageElement) => el.decode().catch(() => undefined));
      await page.screenshot({ path: join(SHOTS, `xss-${name}.png`), fullPage: true });
      expect([name, watch]).toEqual([name, { dialogs: [], errors: [], foreign: [] }]);
      // The payloads are on the page as text.
      if (shown) expect([name, (await page.locator('main').innerText()).includes(shown)]).toEqual([name, true]);
      await context.close();
    }
    expect(EVIL_ORIGIN).toMatch(/^https:/);
  }, 120_000);

  it('shows the screenshot inline on the report page and opens it as a sandboxed image', async () => {
    const { context, page, watch } = await signedInPage();
    await page.goto(`${app.url}/reports/${held.reportId}`);
    const shot = page.locator('img.shot').first();
    await shot.scrollIntoViewIfNeeded();
    expect(await shot.evaluate((el: HTMLImageElement) => el.decode().then(() => el.naturalWidth))).toBe(480);
    await shot.screenshot({ path: join(SHOTS, 'report-screenshot.png') });
    const src = await shot.getAttribute('src');
    const res = await page.goto(`${app.url}${src}`);
    expect(res?.headers()['content-type']).toBe('image/png');
    expect(watch).toEqual({ dialogs: [], errors: [], foreign: [] });
    await context.close();
  });

  it('has no serious or critical accessibility violations on these pages', async () => {
    for (const [name, path] of pages()) {
      const { context, page } = await signedInPage();
      await page.goto(`${app.url}${path}`);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      expect([name, serious]).toEqual([name, []]);
      await context.close();
    }
  }, 120_000);

  it('moves through a page with the keyboard: skip link first, then the nav', async () => {
    const { context, page } = await signedInPage();
    await page.goto(`${app.url}/review`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.screenshot({ path: join(SHOTS, 'review-keyboard.png') });
    await context.close();
  });
});
