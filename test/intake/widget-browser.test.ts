import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp } from '../../src/intake/index.js';
import { getReport, type Report } from '../../src/store/reports.js';
import { countRows, openHarness, type Harness } from './harness.js';

// Issue 14 in a real browser: a demo shop on another origin embeds the widget. One browser for the file.
const SHOTS = join(process.cwd(), '.jest-cache', 'screenshots', 'widget');

interface DemoOptions {
  attrs?: string;
  body?: string;
}

function shopPage(intakeUrl: string, key: string, o: DemoOptions = {}): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
<style>body { font: 20px sans-serif; margin: 24px; background: #fff; } input { font: 28px monospace; width: 420px; padding: 6px; border: 2px solid #333; background: #fff; color: #111; display: block; margin: 8px 0 16px; }</style></head>
<body><h1>Demo shop</h1>
<main>
<button id="add" type="button">Add to cart</button>
<a id="checkout" href="/checkout?step=1">Go to checkout</a>
<button id="help" type="button">Help</button>
<label>Promo code<input id="promo" value="SUMMER SALE"></label>
<label>Password<input id="pw" type="password" value="hunter2hunter2"></label>
<label>Card holder<input id="holder" data-userz-mask value="ADA LOVELACE"></label>
${o.body ?? ''}
</main>
<script>
document.getElementById('add').addEventListener('click', () => { fetch('/api/cart?session=s3cr3t&user=ada@example.com', { method: 'POST', body: '{}' }).catch(() => {}); });
</script>
<script src="${intakeUrl}/widget.js" data-userz-key="${key}" ${o.attrs ?? ''}></script>
</body></html>`;
}

type UserzWindow = Window & {
  Userz: {
    open(): void;
    identify(u: unknown): void;
    setContext(v: unknown): void;
    lastReport(): { id: string } | undefined;
    pending(): number;
  };
};

describe('widget on a demo shop in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let demo: { server: Server; url: string };
  let key = '';
  let options: DemoOptions = {};

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await openHarness({
      deps: {
        rateLimits: { perReporter: { name: 'intake:reporter', limit: 1000, windowMs: 60_000 }, perIp: { name: 'intake:ip', limit: 1000, windowMs: 60_000 } },
      },
    });
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/')) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"cart service down"}');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(shopPage(h.url, key, options));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    demo = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    key = (await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Demo', origins: [demo.url], actor: 'test' })).publicKey;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    demo?.server.close();
    await h?.close();
  });

  async function openShop(opts: DemoOptions = {}, context?: BrowserContext): Promise<Page> {
    options = opts;
    // axe needs a page of a context of its own (it opens a blank page there for its report).
    const page = await (context ?? (await browser.newContext({ viewport: { width: 1000, height: 760 } }))).newPage();
    await page.goto(demo.url);
    await page.waitForFunction(() => 'Userz' in window);
    return page;
  }

  const widget = (page: Page) => page.locator('[data-userz-widget]');

  async function sendAndGetReport(page: Page): Promise<Report> {
    await widget(page).getByRole('button', { name: 'Send report' }).click();
    await widget(page).getByRole('status').filter({ hasText: 'Thanks, we got it.' }).waitFor({ timeout: 30_000 });
    const id = await page.evaluate(() => (window as unknown as UserzWindow).Userz.lastReport()?.id);
    return (await getReport(h.db, id!))!;
  }

  /** Share of pixels in a region of a PNG that are (nearly) black, decoded by the browser. */
  async function darkShare(page: Page, png: Buffer, box: { x: number; y: number; width: number; height: number }): Promise<number> {
    return page.evaluate(
      async ({ data, box }) => {
        const img = new Image();
        img.src = `data:image/png;base64,${data}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(Math.round(box.x) + 2, Math.round(box.y) + 2, Math.round(box.width) - 4, Math.round(box.height) - 4).data;
        let dark = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i]! < 24 && px[i + 1]! < 24 && px[i + 2]! < 24) dark += 1;
        return dark / (px.length / 4);
      },
      { data: png.toString('base64'), box },
    );
  }

  it('sends a failing fetch, the navigation before it, the environment, the App context and the identified reporter', async () => {
    const page = await openShop();
    await page.click('#add');
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/api/cart')));
    await page.click('#checkout');
    await page.waitForURL(/\/checkout/);
    await page.waitForFunction(() => 'Userz' in window);
    await page.evaluate(() => {
      const u = (window as unknown as UserzWindow).Userz;
      u.identify({ id: 'cust-42', email: 'ada@example.com', name: 'Ada' });
      u.setContext({ release: 'shop@1.4.2', plan: 'pro', cartItems: 3 });
      history.pushState({}, '', '/checkout/payment?token=abc');
      const x = new XMLHttpRequest();
      x.open('GET', '/api/shipping?zip=12345');
      x.send();
    });
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/api/shipping')));
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).getByLabel('What went wrong?').fill('Adding to the cart fails');
    // Identified: name and email are neither asked for nor visible.
    expect(await widget(page).getByLabel('Your email (optional)').isVisible()).toBe(false);
    expect(await widget(page).getByLabel('Your name (optional)').isVisible()).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'panel-open.png') });
    const report = await sendAndGetReport(page);
    const content = report.content as Record<string, any>;

    expect(content.network).toEqual([
      expect.objectContaining({ method: 'POST', url: `${demo.url}/api/cart?session=&user=`, status: 500 }),
      expect.objectContaining({ method: 'GET', url: `${demo.url}/api/shipping?zip=`, status: 500 }),
    ]);
    for (const n of content.network) {
      expect(typeof n.durationMs).toBe('number');
      expect(n).not.toHaveProperty('responseBody'); // no bodies unless the App opts in
      expect(n).not.toHaveProperty('requestHeaders');
    }
    const crumbs = content.breadcrumbs as Array<{ kind: string; url?: string; role?: string; text?: string }>;
    expect(crumbs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'navigation', url: `${demo.url}/` }),
        expect.objectContaining({ kind: 'click', role: 'button', text: 'Add to cart' }),
        expect.objectContaining({ kind: 'click', role: 'link', text: 'Go to checkout' }),
        expect.objectContaining({ kind: 'navigation', url: `${demo.url}/checkout?step=` }),
        expect.objectContaining({ kind: 'history', url: `${demo.url}/checkout/payment?token=` }),
      ]),
    );
    expect(crumbs.findIndex((c) => c.text === 'Add to cart')).toBeLessThan(crumbs.findIndex((c) => c.url === `${demo.url}/checkout?step=`));
    expect(content.environment).toMatchObject({
      browser: expect.stringMatching(/^Chrom(e|ium) \d+$/),
      os: 'Linux',
      viewport: { width: 1000, height: 760 },
      devicePixelRatio: 1,
      language: expect.any(String),
      timeZone: expect.any(String),
      release: 'shop@1.4.2',
      custom: { plan: 'pro', cartItems: 3 },
    });
    expect(content.reporter).toMatchObject({ id: 'cust-42', name: 'Ada', email: 'ada@example.com' });
    expect(JSON.stringify(content.network)).not.toMatch(/s3cr3t|ada@example\.com|12345/);
    await page.context().close();
  }, 120_000);

  it('sends headers and bodies of failed requests only when the App opts in, with denylisted names scrubbed on the device', async () => {
    const page = await openShop({
      body: `<script>window.UserzSettings = { network: { captureHeaders: true, captureBodies: true, denylist: ['x-session', 'sku_secret'] }, strings: { send: 'Envoyer' } };</script>`,
    });
    // UserzSettings is read when the widget starts: this page set it before the widget script.
    await page.evaluate(() =>
      fetch('/api/order', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-session': 'sess-abc', authorization: 'Bearer abcdefghijklmnop', 'x-plain': 'visible' },
        body: JSON.stringify({ password: 'hunter2', sku_secret: 'S1', qty: 2, note: 'mail me at ada@example.com' }),
      }),
    );
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).getByLabel('Include a screenshot of this page').uncheck();
    await widget(page).getByLabel('What went wrong?').fill('Order fails');
    await widget(page).getByRole('button', { name: 'Envoyer' }).click();
    await widget(page).getByRole('status').filter({ hasText: 'Thanks, we got it.' }).waitFor({ timeout: 30_000 });
    const id = await page.evaluate(() => (window as unknown as UserzWindow).Userz.lastReport()?.id);
    const content = (await getReport(h.db, id!))!.content as Record<string, any>;
    const entry = (content.network as Array<Record<string, any>>).find((n) => n.method === 'PUT')!;
    expect(entry).toMatchObject({ url: `${demo.url}/api/order`, status: 500, responseBody: '{"error":"cart service down"}' });
    expect(entry.requestHeaders).toMatchObject({ 'x-session': '[scrubbed]', authorization: '[scrubbed]', 'x-plain': 'visible' });
    // The device put [scrubbed] there; the server's own scrubber may mark a secret-named value again.
    const scrubbed = expect.stringMatching(/^\[(scrubbed|redacted secret)\]$/);
    expect(JSON.parse(entry.requestBody)).toEqual({ password: scrubbed, sku_secret: scrubbed, qty: 2, note: 'mail me at [email]' });
    expect(entry.responseHeaders).toMatchObject({ 'content-type': 'application/json' });
    expect(JSON.stringify(content)).not.toMatch(/hunter2|sess-abc|abcdefghijklmnop|ada@example\.com/);
    await page.context().close();
  }, 120_000);

  it('masks the password field and data-userz-mask inputs in the screenshot, and not other inputs', async () => {
    const page = await openShop();
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).locator('canvas').waitFor({ state: 'visible', timeout: 30_000 });
    await widget(page).getByLabel('What went wrong?').fill('Masking check');
    await page.screenshot({ path: join(SHOTS, 'preview.png') });
    const report = await sendAndGetReport(page);
    expect(report.attachments).toHaveLength(1);
    const png = (await h.blobs.get(report.attachments[0]!.blobKey))!;
    expect(png.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(SHOTS, 'sent-screenshot.png'), png);
    const pw = (await page.locator('#pw').boundingBox())!;
    const holder = (await page.locator('#holder').boundingBox())!;
    const promo = (await page.locator('#promo').boundingBox())!;
    expect(await darkShare(page, png, pw)).toBeGreaterThan(0.99);
    expect(await darkShare(page, png, holder)).toBeGreaterThan(0.99);
    expect(await darkShare(page, png, promo)).toBeLessThan(0.5);
    await page.context().close();
  }, 120_000);

  it('works with the keyboard alone: opens from the host’s own button, traps focus, blacks out a region, sends, and Esc returns focus', async () => {
    const page = await openShop({
      attrs: 'data-button="false"',
      body: '<script>document.getElementById("help").addEventListener("click", () => window.Userz.open())</script>',
    });
    expect(await widget(page).getByRole('button', { name: 'Report a problem' }).count()).toBe(0);
    await page.focus('#help');
    await page.keyboard.press('Enter');
    const dialog = widget(page).getByRole('dialog', { name: 'Report a problem' });
    await dialog.waitFor();
    const focusedLabel = () =>
      page.evaluate(() => {
        const host = document.activeElement;
        const el = host?.shadowRoot?.activeElement ?? host;
        return el ? `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? ''}` : '';
      });
    expect(await focusedLabel()).toMatch(/^textarea/);
    await page.keyboard.type('Keyboard only report');
    await widget(page).locator('canvas').waitFor({ state: 'visible', timeout: 30_000 });
    // Focus stays inside the dialog however far one tabs.
    const seen = new Set<string>();
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-userz-widget'))).toBe(true);
      seen.add(await focusedLabel());
    }
    expect([...seen].some((s) => s.startsWith('canvas'))).toBe(true);
    // Tab to the preview, black out the default box with Enter.
    while (!(await focusedLabel()).startsWith('canvas')) await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.screenshot({ path: join(SHOTS, 'keyboard-blackout.png') });
    while (!(await focusedLabel()).startsWith('button:Send report')) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await widget(page).getByRole('status').filter({ hasText: 'Thanks, we got it.' }).waitFor({ timeout: 30_000 });
    const id = await page.evaluate(() => (window as unknown as UserzWindow).Userz.lastReport()?.id);
    const report = (await getReport(h.db, id!))!;
    expect(report.content.text).toBe('Keyboard only report');
    const png = (await h.blobs.get(report.attachments[0]!.blobKey))!;
    // The default box (a quarter in from the top left, a quarter wide, an eighth high, of the screenshot), moved left by one step, is black.
    const size = await page.evaluate(async (data) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      return { w: img.width, h: img.height };
    }, png.toString('base64'));
    const step = Math.max(8, Math.round(size.w / 50));
    const box = { x: Math.round(size.w / 4) - step, y: Math.round(size.h / 4), width: Math.round(size.w / 4), height: Math.round(size.h / 8) };
    expect(await darkShare(page, png, box)).toBeGreaterThan(0.99);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('help');
    await page.context().close();
  }, 120_000);

  it('has no serious or critical axe violations, in the light and the dark theme', async () => {
    for (const attrs of ['data-theme="light"', 'data-theme="dark" data-accent="#8a2be2"']) {
      const page = await openShop({ attrs });
      await widget(page).getByRole('button', { name: 'Report a problem' }).click();
      await widget(page).locator('canvas').waitFor({ state: 'visible', timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, `axe-${attrs.includes('dark') ? 'dark' : 'light'}.png`) });
      const results = await new AxeBuilder({ page }).include('[data-userz-widget]').analyze();
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
      expect(results.passes.length).toBeGreaterThan(5);
      await page.context().close();
    }
  }, 120_000);

  it('keeps a report sent while offline, tells the reporter, and delivers it exactly once when back online', async () => {
    const context = await browser.newContext();
    const page = await openShop({}, context);
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).getByLabel('Include a screenshot of this page').uncheck();
    await widget(page).getByLabel('What went wrong?').fill('Sent while offline');
    const before = await countRows(h.db, 'reports');
    await context.setOffline(true);
    await widget(page).getByRole('button', { name: 'Send report' }).click();
    await widget(page).getByRole('alert').filter({ hasText: 'We could not send your report. It is saved' }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as UserzWindow).Userz.pending())).toBe(1);
    expect(
      await page.evaluate(() =>
        Object.keys(sessionStorage)
          .filter((k) => k.startsWith('userz:outbox:'))
          .map((k) => JSON.parse(sessionStorage[k]).length),
      ),
    ).toEqual([1]);
    expect(await countRows(h.db, 'reports')).toBe(before);
    await context.setOffline(false);
    await widget(page).getByRole('status').filter({ hasText: 'Your saved report has been sent' }).waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (window as unknown as UserzWindow).Userz.pending())).toBe(0);
    expect(await countRows(h.db, 'reports')).toBe(before + 1);
    // A reload finds nothing left to send.
    await page.reload();
    await page.waitForFunction(() => 'Userz' in window);
    expect(await page.evaluate(() => (window as unknown as UserzWindow).Userz.pending())).toBe(0);
    const rows = await h.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM reports WHERE content->>'text' = 'Sent while offline'`);
    expect(rows[0]!.n).toBe('1');
    await context.close();
  }, 120_000);

  it('stores a report once when the first answer is lost after the server stored it, and the retry carries the same key', async () => {
    const page = await openShop();
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).getByLabel('Include a screenshot of this page').uncheck();
    await widget(page).getByLabel('What went wrong?').fill('Answer lost once');
    const keys: string[] = [];
    let lost = false;
    await page.route(`${h.url}/api/v1/reports`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (lost) return route.continue();
      lost = true;
      await route.fetch(); // the server stores the report ...
      await route.abort('connectionreset'); // ... and the answer never reaches the page
    });
    await widget(page).getByRole('button', { name: 'Send report' }).click();
    await widget(page).getByRole('alert').filter({ hasText: 'It is saved' }).waitFor({ timeout: 30_000 });
    await widget(page).getByRole('status').filter({ hasText: 'Your saved report has been sent' }).waitFor({ timeout: 60_000 });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(keys[1]).toBe(keys[0]);
    const rows = await h.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM reports WHERE content->>'text' = 'Answer lost once'`);
    expect(rows[0]!.n).toBe('1');
    await page.context().close();
  }, 120_000);

  it('shows the reporter their reports and one moving from received to fix proposed, without repository detail', async () => {
    const context = await browser.newContext();
    const page = await openShop({}, context);
    await widget(page).getByRole('button', { name: 'Report a problem' }).click();
    await widget(page).getByLabel('Include a screenshot of this page').uncheck();
    await widget(page).getByLabel('What went wrong?').fill('Total is off by one');
    const report = await sendAndGetReport(page);
    await widget(page).getByRole('button', { name: 'Your reports' }).click();
    const list = widget(page).getByRole('list', { name: 'Your reports' });
    await list.getByText('Received').waitFor();
    expect(await list.textContent()).toContain('Total is off by one');
    await h.routes.notifier.notifyReporter(report, { kind: 'pr_opened', url: 'https://github.com/acme/shop/pull/7' });
    const statusBodies: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/status')) void r.text().then((t) => statusBodies.push(t));
    });
    await widget(page).getByRole('button', { name: 'Refresh' }).click();
    await list.getByText('Fix proposed').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'status-fix-proposed.png') });
    expect(statusBodies.length).toBeGreaterThan(0);
    for (const b of statusBodies) expect(b).not.toMatch(/github|acme|pull/);
    expect(await list.textContent()).not.toMatch(/github|acme|pull/);
    await context.close();
  }, 120_000);
});
