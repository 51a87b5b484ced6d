// Builds the browser widget into lib/widget/ (widget.js + screenshot.js) and the npm package
// into lib/widget-package/ (ESM + types, init() and the React wrapper), and prints sizes.
// Run: node --import ./scripts/register-ts.js scripts/build-widget.mjs [outdir]
// The server serves these files when they are newer than src/intake/widget/client/,
// and otherwise bundles in memory on first request (needs esbuild, a dev dependency).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildWidgetBundles } from '../src/intake/widget/build.ts';
import { buildWidgetPackage } from '../src/intake/widget/build-package.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? join(root, 'lib', 'widget'));
mkdirSync(outdir, { recursive: true });
const bundles = await buildWidgetBundles();
for (const [name, body] of Object.entries(bundles)) {
  writeFileSync(join(outdir, `${name}.js`), body);
  console.log(`${name}.js: ${body.length} bytes, ${gzipSync(body).length} bytes gzipped`);
}
const pkgdir = join(dirname(outdir), 'widget-package');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of await buildWidgetPackage(pkgdir, version)) {
  const body = readFileSync(resolve(file));
  console.log(`package ${file.slice(file.indexOf('widget-package'))}: ${body.length} bytes, ${gzipSync(body).length} bytes gzipped`);
}
