import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../src/intake/index.js';
import { getReport } from '../../src/store/reports.js';
import { countRows, openHarness, type Harness } from './harness.js';

// The demo page is served from another port: another origin than the intake server.
function demoPage(intakeUrl: string, publicKey: string): string {
  return `<!doctype html><html><head><title>Demo shop</title>
<style>button { background: rgb(255, 0, 0) !important; font-size: 40px !important; } * { font-family: serif !important; }</style></head>
<body><h1>Demo shop</h1><p>Your cart is empty.</p>
<script src="${intakeUrl}/widget.js" data-userz-key="${publicKey}"></script>
</body></html>`;
}

async function serveDemo(html: () => string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('widget in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let allowed: { server: Server; url: string };
  let refused: { server: Server; url: string };
  let publicKey = '';

  beforeAll(async () => {
    h = await openHarness();
    allowed = await serveDemo(() => demoPage(h.url, publicKey));
    refused = await serveDemo(() => demoPage(h.url, publicKey));
    publicKey = (await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Demo', origins: [allowed.url], actor: 'test' })).publicKey;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    allowed.server.close();
    refused.server.close();
    await h.close();
  });

  it('captures console lines and errors, submits with a screenshot, and the report is stored', async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    await page.goto(allowed.url);
    await page.evaluate(() => {
      for (let i = 0; i < 600; i++) console.log(`line ${i}`, { i });
      console.warn('low stock');
      setTimeout(() => {
        throw new Error('boom from the page');
      }, 0);
      void Promise.reject(new Error('rejected promise'));
    });
    await page.waitForTimeout(100);
    const widget = page.locator('[data-userz-widget]');
    const button = widget.getByRole('button', { name: 'Report a problem' });
    // Shadow DOM: the host page's `button { background: red !important }` does not reach it.
    expect(await button.evaluate((b) => getComputedStyle(b).backgroundColor)).not.toBe('rgb(255, 0, 0)');
    await button.click();
    await widget.locator('textarea').fill('The cart says empty after I added a hat');
    await widget.getByRole('button', { name: 'Send report' }).click();
    await widget.getByText(/Thanks, we got it|could not send/).waitFor({ timeout: 20_000 });
    // The reporter is not shown internal ids; the host page can read the report's id.
    expect(await widget.getByRole('status').textContent()).toBe('Thanks, we got it.');
    const id = await page.evaluate(() => (window as unknown as { Userz: { lastReport(): { id: string } | undefined } }).Userz.lastReport()?.id);
    expect(id).toMatch(/^rep_/);

    const report = await getReport(h.db, id!);
    expect(report!.source).toBe('widget');
    const content = report!.content as {
      text: string;
      console: Array<{ level: string; message: string }>;
      page: { url: string; userAgent: string; viewport: { width: number; height: number } };
    };
    expect(content.text).toBe('The cart says empty after I added a hat');
    // Console lines, failed requests and breadcrumbs share the 500-line limit; the oldest console lines go first.
    const context = content as unknown as { network: unknown[]; breadcrumbs: unknown[] };
    expect(content.console.length + context.network.length + context.breadcrumbs.length).toBe(500);
    const messages = content.console.map((l) => l.message);
    expect(messages).toContain('low stock');
    expect(messages.some((m) => m.includes('boom from the page'))).toBe(true);
    expect(messages.some((m) => m.includes('rejected promise'))).toBe(true);
    expect(messages).not.toContain('line 0 {"i":0}');
    expect(content.page.url).toBe(`${allowed.url}/`);
    expect(content.page.userAgent).toContain('Chrome');
    expect(content.page.viewport).toEqual({ width: 1024, height: 700 });
    expect(report!.attachments).toHaveLength(1);
    const shot = await h.blobs.get(report!.attachments[0]!.blobKey);
    expect(shot!.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(shot!.length).toBeGreaterThan(1000);
    await page.close();
  }, 60_000);

  it('sends the host page’s user token in private mode', async () => {
    const { SignJWT } = await import('jose');
    const { createApp: create } = await import('../../src/intake/index.js');
    const priv = await serveDemo(() => '');
    const created = await create(h.db, h.vault, { orgId: h.orgId, name: 'Private', origins: [priv.url], actor: 'test' });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('customer-77')
      .setAudience(created.app.id)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(created.signingSecret));
    priv.server.removeAllListeners('request');
    priv.server.on('request', (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><body><script src="${h.url}/widget.js" data-userz-key="${created.publicKey}"></script><script>window.Userz.setUserToken(${JSON.stringify(token)})</script></body>`,
        );
    });
    try {
      const page = await browser.newPage();
      await page.goto(priv.url);
      const widget = page.locator('[data-userz-widget]');
      await widget.getByRole('button', { name: 'Report a problem' }).click();
      await widget.locator('input[name=screenshot]').uncheck();
      await widget.locator('textarea').fill('private report');
      await widget.getByRole('button', { name: 'Send report' }).click();
      await widget.getByText(/Thanks, we got it|could not send/).waitFor({ timeout: 20_000 });
      const id = await page.evaluate(() => (window as unknown as { Userz: { lastReport(): { id: string } | undefined } }).Userz.lastReport()?.id);
      expect(id).toMatch(/^rep_/);
      expect((await getReport(h.db, id!))!.reporterKey).toBe('user:customer-77');
      await page.close();
    } finally {
      priv.server.close();
    }
  }, 60_000);

  it('is refused from an origin that is not on the allowlist', async () => {
    const before = await countRows(h.db, 'reports');
    const page = await browser.newPage();
    await page.goto(refused.url);
    const widget = page.locator('[data-userz-widget]');
    await widget.getByRole('button', { name: 'Report a problem' }).click();
    await widget.locator('input[name=screenshot]').uncheck();
    await widget.locator('textarea').fill('should not arrive');
    await widget.getByRole('button', { name: 'Send report' }).click();
    await widget
      .getByRole('alert')
      .filter({ hasText: /could not send/ })
      .waitFor({ timeout: 20_000 });
    expect(await countRows(h.db, 'reports')).toBe(before);
    await page.close();
  }, 60_000);
});
