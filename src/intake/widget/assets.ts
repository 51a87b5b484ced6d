import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWidgetBundles, widgetClientSources, type WidgetBundles } from './build.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// scripts/build-widget.mjs writes lib/widget/; this module runs from src/intake/widget
// (tsx, tests) or lib/intake/widget (the build).
const PREBUILT_DIRS = [join(HERE, '..', '..', 'widget'), join(HERE, '..', '..', '..', 'lib', 'widget')];

let loading: Promise<WidgetBundles> | undefined;

/**
 * The served widget files: the prebuilt ones when present and not older than the client
 * sources, else built in memory once per process (development and tests).
 */
export function loadWidgetAssets(): Promise<WidgetBundles> {
  loading ??= loadOnce().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

async function loadOnce(): Promise<WidgetBundles> {
  const newestSource = Math.max(
    0,
    ...widgetClientSources()
      .filter((f) => existsSync(f))
      .map((f) => statSync(f).mtimeMs),
  );
  for (const dir of PREBUILT_DIRS) {
    const widget = join(dir, 'widget.js');
    const screenshot = join(dir, 'screenshot.js');
    if (existsSync(widget) && existsSync(screenshot) && statSync(widget).mtimeMs >= newestSource) {
      return { widget: readFileSync(widget), screenshot: readFileSync(screenshot) };
    }
  }
  return buildWidgetBundles();
}
