// Builds the browser widget into lib/widget/ (widget.js + screenshot.js) and prints sizes.
// Run: node --import ./scripts/register-ts.js scripts/build-widget.mjs [outdir]
// The server serves these files when they are newer than src/intake/widget/client/,
// and otherwise bundles in memory on first request (needs esbuild, a dev dependency).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildWidgetBundles } from '../src/intake/widget/build.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? join(root, 'lib', 'widget'));
mkdirSync(outdir, { recursive: true });
const bundles = await buildWidgetBundles();
for (const [name, body] of Object.entries(bundles)) {
  writeFileSync(join(outdir, `${name}.js`), body);
  console.log(`${name}.js: ${body.length} bytes, ${gzipSync(body).length} bytes gzipped`);
}
