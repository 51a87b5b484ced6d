import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { outboxLink } from '../helpers/console-session.js';
import { launchChromium } from '../helpers/browser.js';

// Sign-up, verification, account and members in Chromium, by keyboard, with screenshots and
// an accessibility check. The browser reaches the test server under the public URL's name
// (host-resolver-rules), so Origin checks see the console's own origin.
const SHOTS = join(process.cwd(), '.jest-cache', 'screenshots', 'console');
const PUBLIC = 'http://console.test';

describe('console sign-in in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startTestApp({ db: 'pglite', env: { USERZ_PUBLIC_URL: PUBLIC } });
    const port = new URL(app.url).port;
    browser = await launchChromium([`--host-resolver-rules=MAP console.test 127.0.0.1:${port}`]);
    page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await app.close();
  });

  async function seriousViolations(): Promise<string[]> {
    const r = await new AxeBuilder({ page }).analyze();
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  }

  it('signs up by keyboard, verifies by the mailed link, and shows account and members', async () => {
    await page.goto(`${PUBLIC}/sign-in`);
    expect(new URL(page.url()).pathname).toBe('/sign-up');
    await page.screenshot({ path: join(SHOTS, 'sign-up.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);

    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.test');
    await page.getByLabel('Password (at least 10 characters)').fill('analytical engine 1843');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${PUBLIC}/sign-up`);
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'check-email.png'), fullPage: true });

    const link = await outboxLink(app, 'ada@example.test', 'verify-email');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Email verified' }).waitFor();

    await page.goto(`${PUBLIC}/account`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('This session');
    await page.screenshot({ path: join(SHOTS, 'account.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);

    // The first user on the embedded database owns the first org: invite someone.
    await page.goto(`${PUBLIC}/members`);
    await page.getByLabel('Email').fill('grace@example.test');
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Send invite' }).click();
    await page.waitForURL(`${PUBLIC}/members?notice=invited`);
    expect(await page.locator('main').textContent()).toContain('grace@example.test');
    await page.screenshot({ path: join(SHOTS, 'members.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${PUBLIC}/sign-in?notice=signed-out`);
    await page.screenshot({ path: join(SHOTS, 'sign-in.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);
    await page.goto(`${PUBLIC}/account`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(errors).toEqual([]);
  });
});
