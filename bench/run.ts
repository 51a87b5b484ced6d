/**
 * `npm run bench [-- [--quick] name…]`: runs every bench/*.bench.ts (or the named ones) one
 * after the other in this process. Each benchmark measures its own baseline in the same run
 * and prints a ratio, because these machines are shared and absolute times are noisy, and
 * ends with one `BENCH {...}` line per figure (bench-line.ts). --quick runs the same code
 * paths shorter, every bench in under 3 minutes in all, as a smoke check.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
// --quick: every bench on the same code paths with shorter runs (bench-line.ts reads this),
// set in the environment so the benches' child processes see it too.
if (args.includes('--quick')) process.env.USERZ_BENCH_QUICK = '1';
const wanted = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

// A run that ends before its last bench (a stray process.exit, an event loop left with
// nothing to wait for) says where, and fails, instead of ending quietly with status 0.
let current: string | undefined;
process.on('beforeExit', () => current && console.error(`bench: the event loop emptied while ${current} was running`));
process.on('exit', (code) => {
  if (current === undefined) return;
  console.error(`bench: the process exited (status ${code}) while ${current} was running`);
  if (code === 0) process.exitCode = 1;
});

const started = performance.now();
for (const file of files) {
  current = file;
  const t0 = performance.now();
  console.log(`\n## ${file.replace('.bench.ts', '')}${process.env.USERZ_BENCH_QUICK === '1' ? ' (quick)' : ''}`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
  await mod.default();
  console.log(`(${file} took ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
current = undefined;
console.log(`\nall benches took ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(0);
