import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../src/intake/index.js';
import { buildWidgetBundles } from '../../src/intake/widget/build.js';
import { buildWidgetPackage } from '../../src/intake/widget/build-package.js';
import { getReport } from '../../src/store/reports.js';
import { openHarness, type Harness } from './harness.js';

/** Issue 14: everything loaded before the panel opens, gzipped, at most 15 KB. */
const BUDGET_GZIP_BYTES = 15 * 1024;

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

describe('widget distribution', () => {
  let outdir: string;
  let browser: Browser | undefined;
  let h: Harness | undefined;

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'userz-widget-pkg-'));
    await buildWidgetPackage(outdir, '0.0.0-test');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('keeps the script tag within 15 KB gzipped before the panel opens (the screenshot library loads on open)', async () => {
    const { widget, screenshot } = await buildWidgetBundles();
    const first = gzipSync(widget).length;
    expect(first).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    // The screenshot chunk is really separate: the first load does not contain modern-screenshot.
    expect(widget.includes(Buffer.from('__userzScreenshot='))).toBe(false);
    expect(screenshot.includes(Buffer.from('__userzScreenshot'))).toBe(true);
  });

  it('keeps the npm package (each entry with its shared chunks, gzipped file by file) within the same budget', () => {
    const files = jsFiles(outdir);
    const chunks = files.filter((f) => f.includes(`${join(outdir, 'chunks')}`));
    expect(chunks.length).toBeGreaterThan(0);
    for (const entry of ['index.js', 'react.js']) {
      const total = [join(outdir, entry), ...chunks].reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0);
      expect(total).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    }
  });

  it('ships ESM with types for init() and the React hook and button', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: '@userz/widget',
      type: 'module',
      exports: { '.': { types: './types/index.d.ts', import: './index.js' }, './react': { types: './types/react.d.ts', import: './react.js' } },
      peerDependencies: { react: '>=17' },
    });
    expect(readFileSync(join(outdir, 'types', 'index.d.ts'), 'utf8')).toContain('export declare function init(options: UserzOptions): UserzApi;');
    const react = readFileSync(join(outdir, 'types', 'react.d.ts'), 'utf8');
    expect(react).toContain('export declare function useUserz(');
    expect(react).toContain('export declare function UserzButton(');
    const core = readFileSync(join(outdir, 'types', 'core.d.ts'), 'utf8');
    for (const method of ['open(): void;', 'identify(user: UserzUser | null): void;', 'setContext(', 'reports(): Promise<']) expect(core).toContain(method);
    expect(readFileSync(join(outdir, 'react.js'), 'utf8')).toMatch(/from"react"|from "react"/);
  });

  it('runs from the package in a React app: the host’s button opens the panel and the report arrives with the identified user', async () => {
    h = await openHarness();
    const harness = h;
    let key = '';
    const appDir = mkdtempSync(join(tmpdir(), 'userz-widget-react-'));
    try {
      writeFileSync(
        join(appDir, 'app.js'),
        `import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { UserzButton } from ${JSON.stringify(join(outdir, 'react.js'))};
const cfg = window.__cfg;
createRoot(document.getElementById('root')).render(
  createElement(UserzButton, { options: { key: cfg.key, endpoint: cfg.endpoint, button: false }, user: { id: 'u-7', name: 'Grace', email: 'grace@example.com' }, context: { release: 'web@2.0.0' } }, 'Feedback'),
);`,
      );
      const esbuild = await import('esbuild');
      const bundle = await esbuild.build({
        entryPoints: [join(appDir, 'app.js')],
        bundle: true,
        write: false,
        format: 'iife',
        nodePaths: [join(process.cwd(), 'node_modules')],
        define: { 'process.env.NODE_ENV': '"production"' },
      });
      const appJs = bundle.outputFiles[0]!.text;
      const server: Server = createServer((req, res) => {
        if (req.url === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(appJs);
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<!doctype html><html lang="en"><head><title>React shop</title></head><body><div id="root"></div><script>window.__cfg=${JSON.stringify({ key, endpoint: harness.url })}</script><script src="/app.js"></script></body></html>`,
          );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      key = (await createApp(harness.db, harness.vault, { orgId: harness.orgId, name: 'React', origins: [url], actor: 'test' })).publicKey;
      try {
        browser = await chromium.launch({
          executablePath: '/usr/bin/chromium',
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        });
        const page = await (await browser.newContext()).newPage();
        await page.goto(url);
        const widget = page.locator('[data-userz-widget]');
        await page.getByRole('button', { name: 'Feedback' }).click();
        await widget.getByRole('dialog', { name: 'Report a problem' }).waitFor();
        expect(await widget.getByRole('button', { name: 'Report a problem' }).count()).toBe(0); // no floating button
        await widget.getByLabel('Include a screenshot of this page').uncheck();
        await widget.getByLabel('What went wrong?').fill('From the React app');
        expect(await widget.getByLabel('Your email (optional)').isVisible()).toBe(false);
        await widget.getByRole('button', { name: 'Send report' }).click();
        await widget.getByRole('status').filter({ hasText: 'Thanks, we got it.' }).waitFor({ timeout: 30_000 });
        const rows = await harness.db.query<{ id: string }>(`SELECT id FROM reports WHERE content->>'text' = 'From the React app'`);
        expect(rows).toHaveLength(1);
        const content = (await getReport(harness.db, rows[0]!.id))!.content as Record<string, any>;
        expect(content.reporter).toMatchObject({ id: 'u-7', name: 'Grace', email: 'grace@example.com' });
        expect(content.environment).toMatchObject({ release: 'web@2.0.0' });
      } finally {
        server.close();
      }
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  }, 120_000);
});
