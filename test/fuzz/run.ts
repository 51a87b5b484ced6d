// `npm run fuzz [-- --db pglite|postgres] [--endpoint NAME]`: every endpoint with
// FUZZ_RUNS generated inputs (default 10,000) from FUZZ_SEED (default: random, printed).
// Exits 1 on any 5xx, crash, leaked exception text or partial write; failing inputs are
// saved under test/fixtures/fuzz/ for fuzz.test.ts to replay.
import { join } from 'node:path';
import { countPartialWrites, ENDPOINTS, formatScore, fuzzEndpoint, saveFailures, type EndpointName } from './campaign.js';
import { openFuzzTarget } from './target.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const db = (arg('db') ?? 'pglite') as 'pglite' | 'postgres';
if (db !== 'pglite' && db !== 'postgres') throw new Error('--db must be pglite or postgres');
const only = arg('endpoint') as EndpointName | undefined;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'fuzz');

console.log(`fuzz: db=${db} seed=${seed} runs=${runs} (reproduce with FUZZ_SEED=${seed})`);
const target = await openFuzzTarget(db);
let failed = false;
// The target installs the server's process-level guard, which logs an uncaught error instead
// of crashing; without this a campaign that throws would end silently with status 0.
let finished = false;
process.on('exit', () => {
  if (!finished) {
    console.log('fuzz: FAILED (the campaign stopped before it finished; see the error above or the server log)');
    process.exitCode = 1;
  }
});
try {
  for (const endpoint of only ? [only] : ENDPOINTS) {
    const score = await fuzzEndpoint(target, endpoint, { seed, runs, concurrency: 8 });
    console.log(formatScore(score));
    if (score.s5xx || score.crashes || score.leaks) {
      failed = true;
      for (const file of saveFailures(fixtures, seed, score)) console.log(`  failing input saved: ${file}`);
      for (const line of serverErrors(target.app.logText())) console.log(`  server log: ${line}`);
    }
  }
  const writes = await countPartialWrites(target);
  console.log(`store: reports=${writes.reports} partial_writes=${writes.partial}`);
  if (writes.partial) failed = true;
} catch (e) {
  console.log(`fuzz: the campaign threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  failed = true;
} finally {
  await target.close();
}
finished = true;
console.log(failed ? 'fuzz: FAILED' : 'fuzz: ok');

/** Distinct error lines the server logged (level ≥ 50), to say why a 5xx happened. */
function serverErrors(log: string): string[] {
  const seen = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line) continue;
    const entry = JSON.parse(line) as { level: number; msg?: string; err?: unknown; code?: unknown };
    if (entry.level >= 50) seen.add(`${entry.msg ?? ''} ${JSON.stringify(entry.err ?? entry.code ?? '')}`.slice(0, 300));
  }
  return [...seen].slice(0, 10);
}
process.exit(failed ? 1 : 0);
