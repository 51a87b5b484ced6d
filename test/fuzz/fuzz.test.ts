// The seeded sample of `npm run fuzz` inside `npm test`: FUZZ_RUNS (200) inputs per
// endpoint from FUZZ_SEED (fixed, so a failure reproduces), then every saved failing
// input under test/fixtures/fuzz/ replayed. No 5xx, no crash, no exception text in any
// answer, and no report stored without its job and audit event.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countPartialWrites, ENDPOINTS, formatScore, fuzzEndpoint, LEAK, sendCase } from './campaign.js';
import type { Case } from './generators.js';
import { openFuzzTarget, type FuzzTarget } from './target.js';

const SEED = Number(process.env.FUZZ_SEED ?? 170_017);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'fuzz');

describe(`fuzz sample (seed ${SEED}, ${RUNS} inputs per endpoint, PGlite)`, () => {
  let t: FuzzTarget;
  beforeAll(async () => {
    t = await openFuzzTarget('pglite');
  }, 120_000);
  afterAll(async () => t.close());

  it.each(ENDPOINTS)(
    '%s: no 5xx, no crash, no exception text',
    async (endpoint) => {
      const score = await fuzzEndpoint(t, endpoint, { seed: SEED, runs: RUNS });
      console.log(formatScore(score));
      expect(score.inputs).toBe(RUNS);
      expect({ s5xx: score.s5xx, crashes: score.crashes, leaks: score.leaks, first: score.failures[0] }).toEqual({
        s5xx: 0,
        crashes: 0,
        leaks: 0,
        first: undefined,
      });
    },
    300_000,
  );

  it('replays every saved failing input without a 5xx or exception text', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const saved = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { case: Case };
      const answer = await sendCase(t, saved.case);
      expect({ file, status: answer.status < 500, leak: LEAK.test(answer.body) }).toEqual({ file, status: true, leak: false });
    }
  });

  it('left no report without its triage job and its audit event', async () => {
    const writes = await countPartialWrites(t);
    expect(writes.reports).toBeGreaterThan(0);
    expect(writes.partial).toBe(0);
  });
});
