import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'client');

/**
 * Every client source file: a prebuilt bundle older than any of them is stale. The
 * production image compiles src/ without the client folder (tsconfig.build.json), so
 * there are none there and the prebuilt bundle is always used.
 */
export function widgetClientSources(): string[] {
  if (!existsSync(CLIENT_DIR)) return [];
  return readdirSync(CLIENT_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(CLIENT_DIR, f));
}

export interface WidgetBundles {
  /** The `<script src=".../widget.js">` the customer embeds. */
  widget: Buffer;
  /** modern-screenshot, fetched only when the reporter asks for a screenshot. */
  screenshot: Buffer;
}

/**
 * Bundles the browser widget with esbuild (a dev dependency: production serves the
 * prebuilt files from scripts/build-widget.mjs). Two classic-script IIFEs, so the host
 * page needs no module support and the screenshot library stays out of the first load.
 */
export async function buildWidgetBundles(): Promise<WidgetBundles> {
  const esbuild = await import('esbuild');
  const common: import('esbuild').BuildOptions & { write: false } = {
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    target: ['es2019'],
    platform: 'browser',
    legalComments: 'none',
  };
  const [widget, screenshot] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(CLIENT_DIR, 'widget.ts')] }),
    esbuild.build({ ...common, entryPoints: [join(CLIENT_DIR, 'screenshot.ts')] }),
  ]);
  return { widget: Buffer.from(widget.outputFiles[0]!.contents), screenshot: Buffer.from(screenshot.outputFiles[0]!.contents) };
}
