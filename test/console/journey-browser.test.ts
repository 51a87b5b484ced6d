import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp } from '../../src/intake/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startSmtp, type Smtp } from '../helpers/smtp.js';
import { runOfReport, setUpCustomer } from '../pipeline/scenario.js';
import { prFailedRun } from './fixtures.js';
import { launchChromium } from '../helpers/browser.js';

// Issue 13's proof, in Chromium: the whole console journey of a new maintainer, with the
// mail going through a real SMTP server. The browser reaches the console by its public URL
// (the name mapped to the test server's port), so the Origin of its forms, the links in the
// mail and its cookies are the real ones. One browser for the file.
const SHOTS = join(process.cwd(), '.jest-cache', 'screenshots', 'console');
const PUBLIC = 'http://console.userz.test';
const SHOP = 'http://shop.userz.test';
const PASSWORD = 'journey horse battery staple';

function shopPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo shop</title></head>
<body style="font: 18px sans-serif; margin: 24px"><h1>Demo shop</h1><p>Cart: 3 items, total NaN</p>
<script src="${PUBLIC}/widget.js" data-userz-key="${shopKey}"></script></body></html>`;
}
let shopKey = '';

describe('the console journey in Chromium', () => {
  let app: TestApp;
  let smtp: Smtp;
  let browser: Browser;
  let shopServer: Server;
  let orgId: string;
  let reporterKey: string;
  const errors: string[] = [];
  let shot = 0;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    smtp = await startSmtp();
    app = await startTestApp({ db: 'pglite', env: { USERZ_PUBLIC_URL: PUBLIC, USERZ_SMTP_URL: smtp.url, USERZ_MAIL_FROM: 'Userz <console@userz.test>' } });
    // What `userz init` and an operator leave: the first org, a repository, an App on the shop.
    ({ orgId, publicKey: reporterKey } = await setUpCustomer(app));
    shopKey = (await createApp(app.deps.store.db, app.deps.vault, { orgId, name: 'Demo shop', origins: [SHOP], actor: 'test' })).publicKey;
    // The shop: a page of its own on another origin, embedding the widget.
    shopServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(shopPage()));
    await new Promise<void>((resolve) => shopServer.listen(0, '127.0.0.1', resolve));
    const shopPort = (shopServer.address() as AddressInfo).port;
    browser = await launchChromium([
      // The clipboard is for secure contexts; the console's test origin is plain http.
      `--unsafely-treat-insecure-origin-as-secure=${PUBLIC}`,
      // The console's public name reaches the test server: real redirects, cookies and Origin.
      `--host-resolver-rules=MAP ${new URL(PUBLIC).host}:80 127.0.0.1:${new URL(app.url).port},MAP ${new URL(SHOP).host}:80 127.0.0.1:${shopPort}`,
    ]);
  }, 180_000);
  afterAll(async () => {
    shopServer?.close();
    await browser?.close();
    await app?.close();
    await smtp?.close();
  });

  /** A browser profile: the console's test origin counts as secure (for the clipboard), errors are collected. */
  async function profile(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: PUBLIC });
    context.on('page', (p) => watch(p));
    return context;
  }

  function watch(page: Page): void {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  }

  async function snap(page: Page, name: string): Promise<void> {
    shot += 1;
    await page.screenshot({ path: join(SHOTS, `journey-${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  }

  const heading = (page: Page) => page.locator('h1').innerText();

  async function signUpAndVerify(page: Page, name: string, email: string): Promise<void> {
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create account' }).click()]);
    expect(await heading(page)).toBe('Check your email');
    await snap(page, `check-email-${name.split(' ')[0]!.toLowerCase()}`);
    await page.goto(await smtp.link(email, 'verify-email'));
    expect(await heading(page)).toBe('Email verified');
    await snap(page, `verified-${name.split(' ')[0]!.toLowerCase()}`);
  }

  it('signs up, verifies, signs in, follows a widget report to its run, a pr_failed run, approves, creates an App, invites a member, signs out', async () => {
    const owner = await profile();
    const page = await owner.newPage();

    // 1. The first page a new user sees: the console's sign-up.
    await page.goto(`${PUBLIC}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-up');
    await snap(page, 'sign-up');
    await signUpAndVerify(page, 'Olivia Owner', 'olivia@shop.example');

    // 2. Sign in with the password (a fresh start: no cookie).
    await owner.clearCookies();
    await page.goto(`${PUBLIC}/sign-in`);
    await page.getByLabel('Email').fill('olivia@shop.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await snap(page, 'sign-in');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    expect(await heading(page)).toBe('Inbox');
    await snap(page, 'inbox-empty');

    // 3. A shopper reports through the widget on the shop.
    const shop = await owner.newPage();
    await shop.goto(`${SHOP}/`);
    await shop.waitForFunction(() => 'Userz' in window);
    const widget = shop.locator('[data-userz-widget]');
    await widget.getByRole('button', { name: 'Report a problem' }).click();
    await widget.getByLabel('What went wrong?').fill('The cart total shows NaN after adding a third item.');
    await widget.getByRole('button', { name: 'Send report' }).click();
    await widget.getByRole('status').filter({ hasText: 'Thanks, we got it.' }).waitFor({ timeout: 30_000 });
    const reportId = await shop.evaluate(() => (window as unknown as { Userz: { lastReport(): { id: string } | undefined } }).Userz.lastReport()?.id);
    await shop.close();
    // The pipeline's triage (no model here: the report is held for a person).
    await triageReport(app.deps.pipeline, reportId!);

    await page.goto(`${PUBLIC}/`);
    const row = page.getByRole('link', { name: /The cart total shows NaN/ });
    await snap(page, 'inbox-with-report');
    await Promise.all([page.waitForNavigation(), row.click()]);
    expect(await heading(page)).toBe(`Report ${reportId}`);
    await snap(page, 'report');

    // 4. Its run.
    const runId = (await runOfReport(app.deps.store.db, reportId!))!.id;
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: runId }).first().click()]);
    expect(await heading(page)).toBe(`Run ${runId}`);
    expect(await page.locator('main').innerText()).toContain('needs review');
    await snap(page, 'run-held');

    // 5. A run the guardrail refused: its file and rule.
    const failed = await prFailedRun(app, orgId, reporterKey, { text: 'Checkout button does nothing on Safari.' });
    await page.goto(`${PUBLIC}/runs?state=pr_failed`);
    await snap(page, 'runs-pr-failed');
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: failed.runId }).click()]);
    const refusal = await page.getByRole('alert').innerText();
    expect(refusal).toContain('.github/workflows/ci.yml');
    expect(refusal).toContain('ci.workflows');
    await snap(page, 'run-pr-failed');

    // 6. Approve the held report: its run is queued.
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Review queue' }).click()]);
    await snap(page, 'review-queue');
    const item = page.locator('li.held').filter({ hasText: 'The cart total shows NaN' });
    await Promise.all([page.waitForNavigation(), item.getByRole('button', { name: 'Approve and queue the run' }).click()]);
    expect(await page.getByRole('status').innerText()).toContain('Approved: the run is queued.');
    await snap(page, 'approved');
    await Promise.all([page.waitForNavigation(), page.getByRole('status').getByRole('link', { name: 'Run' }).click()]);
    expect(await page.locator('dl.facts dd').first().innerText()).toContain('triaged');
    expect(await app.deps.store.db.query('SELECT kind FROM jobs WHERE key = $1 AND done_at IS NULL', [`run:${runId}`])).toEqual([{ kind: 'run' }]);
    await snap(page, 'run-queued');

    // 7. Create an App and copy its snippet.
    await page.goto(`${PUBLIC}/apps`);
    await page.getByLabel('Name').fill('Mobile web');
    await page.getByLabel('Allowed origins').fill('https://m.shop.example');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create App' }).click()]);
    const snippet = await page.locator('pre#snippet').innerText();
    expect(snippet).toMatch(new RegExp(`^<script src="${PUBLIC}/widget.js" data-userz-key="pub_[A-Za-z0-9_]+" async></script>$`));
    await page.locator('button[data-copy="snippet"]').click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippet);
    await snap(page, 'app-snippet');

    // 8. Invite a member, who signs up from the invite and joins.
    await page.goto(`${PUBLIC}/members`);
    await page.getByLabel('Email').fill('max@shop.example');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send invite' }).click()]);
    await snap(page, 'members-invited');
    const invite = await smtp.link('max@shop.example', 'invites/');

    const invitee = await profile();
    const max = await invitee.newPage();
    await max.goto(invite);
    await snap(max, 'invite');
    await Promise.all([max.waitForNavigation(), max.getByRole('link', { name: 'Create an account with max@shop.example' }).click()]);
    await signUpAndVerify(max, 'Max Member', 'max@shop.example');
    await Promise.all([max.waitForNavigation(), max.getByRole('link', { name: 'Continue to the console' }).click()]);
    await Promise.all([max.waitForNavigation(), max.getByRole('button', { name: /^Join / }).click()]);
    await max.goto(`${PUBLIC}/`);
    expect(await max.getByRole('link', { name: /The cart total shows NaN/ }).count()).toBe(1);
    expect(await max.locator('.who .role').innerText()).toBe('member');
    await snap(max, 'member-inbox');
    await invitee.close();

    // 9. Sign out: the session is gone, the console sends to sign-in again.
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    await snap(page, 'signed-out');
    await page.goto(`${PUBLIC}/review`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await owner.close();

    expect(errors).toEqual([]);
  }, 240_000);
});
