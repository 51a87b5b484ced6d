// Property tests: a forbidden path never passes however it is spelled, and the rule
// index never disagrees with testing every rule.
import fc from 'fast-check';
import { checkChangeSet, compileRules, loadDefaultRules, type ChangeSetEntry, type CompiledRules, type RuleSet } from '../../src/guardrail/index.js';
import { checkChangeSetExhaustively } from '../../src/guardrail/check.js';
import { matchRules, matchRulesExhaustively } from '../../src/guardrail/compile.js';
import { pathsOf } from './change-sets.js';

let defaults: RuleSet;
let rules: CompiledRules;

beforeAll(async () => {
  defaults = await loadDefaultRules();
  rules = compileRules(defaults);
});

const segmentChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-');
const segment = fc.string({ unit: segmentChars, minLength: 1, maxLength: 8 });
const depthPrefix = fc.array(segment, { maxLength: 4 }).map((segs) => segs.map((s) => `${s}/`).join(''));
const envSuffix = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._-'), maxLength: 10 });

/** Forbidden paths in plain lower-case ASCII, at the depths their rules cover. */
const forbiddenPath = fc.oneof(
  fc.tuple(depthPrefix).map(([p]) => `${p}.env`),
  fc.tuple(depthPrefix, envSuffix).map(([p, s]) => `${p}.env.${s}`),
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}.github/workflows/${s}.yml`),
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}.git/${s}`),
  fc.tuple(segment).map(([s]) => `infra/${s}`),
  fc.tuple(segment).map(([s]) => `scripts/release/${s}`),
  fc.constant('.userz.yml'),
  // CI definitions (ci.*): local actions, action files anywhere, GitLab pipeline files and
  // includes, the .gitlab directory, hosted CI services.
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}.github/actions/${s}/action.yml`),
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}.github/actions/${s}/index.js`),
  fc.tuple(depthPrefix, fc.constantFrom('yml', 'yaml')).map(([p, ext]) => `${p}action.${ext}`),
  fc.tuple(depthPrefix, fc.constantFrom('yml', 'yaml')).map(([p, ext]) => `${p}.github/dependabot.${ext}`),
  fc.tuple(depthPrefix, fc.constantFrom('renovate.json', '.renovaterc', '.pre-commit-config.yaml', '.gitmodules')).map(([p, f]) => `${p}${f}`),
  fc.tuple(depthPrefix, fc.constantFrom('yml', 'yaml')).map(([p, ext]) => `${p}.gitlab-ci.${ext}`),
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}${s}.gitlab-ci.yml`),
  fc.tuple(depthPrefix, segment).map(([p, s]) => `${p}.gitlab/ci/${s}.yml`),
  fc
    .tuple(depthPrefix, fc.constantFrom('.circleci/config.yml', '.travis.yml', 'jenkinsfile', '.buildkite/pipeline.yml', 'azure-pipelines.yml'))
    .map(([p, f]) => `${p}${f}`),
);

const FULLWIDTH_OFFSET = 0xfee0;
const MATH_BOLD_SMALL_A = 0x1d41a;
const MATH_BOLD_CAPITAL_A = 0x1d400;

/** One character of a path, spelled as a case-insensitive, normalising client would still read it. */
function respell(c: string): fc.Arbitrary<string> {
  if (c === '/') return fc.constant('/');
  const options: string[] = [c, c.toUpperCase(), String.fromCharCode(c.charCodeAt(0) + FULLWIDTH_OFFSET)];
  if (/[a-z]/.test(c)) {
    const i = c.charCodeAt(0) - 0x61;
    options.push(String.fromCodePoint(MATH_BOLD_SMALL_A + i), String.fromCodePoint(MATH_BOLD_CAPITAL_A + i), `${c}\u0301`, `${c}\u0308`);
  }
  return fc.constantFrom(...options);
}

const respelled = (path: string): fc.Arbitrary<string> => fc.tuple(...[...path].map(respell)).map((chars) => chars.join(''));

describe('forbidden paths never pass', () => {
  it('in any mix of upper and lower case', () => {
    fc.assert(
      fc.property(
        forbiddenPath.chain((p) => fc.tuple(fc.constant(p), fc.array(fc.boolean(), { minLength: p.length, maxLength: p.length }))),
        ([path, upper]) => {
          const spelled = [...path].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
          expect(checkChangeSet(pathsOf(spelled), rules).allowed).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('in Unicode spellings that fold to it (fullwidth, mathematical letters, combining marks)', () => {
    fc.assert(
      fc.property(forbiddenPath.chain(respelled), (spelled) => {
        const verdict = checkChangeSet(pathsOf(spelled), rules);
        expect(verdict.allowed).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('with invisible characters slipped in', () => {
    const invisible = fc.constantFrom('\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u202e');
    fc.assert(
      fc.property(forbiddenPath, fc.nat(), invisible, (path, at, c) => {
        const i = at % (path.length + 1);
        expect(checkChangeSet(pathsOf(path.slice(0, i) + c + path.slice(i)), rules).allowed).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('as the old path of a rename', () => {
    fc.assert(
      fc.property(forbiddenPath, segment, (oldPath, name) => {
        const cs = pathsOf(`src/${name}.ts`);
        cs.entries[0] = { ...cs.entries[0]!, status: 'renamed', oldPath };
        expect(checkChangeSet(cs, rules).allowed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('with a ".." segment anywhere, or a control character anywhere', () => {
    const control = fc.integer({ min: 0, max: 0x1f }).map((n) => String.fromCharCode(n));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.nat(), control, (segs, at, c) => {
        const withDotdot = [...segs];
        withDotdot.splice(at % (segs.length + 1), 0, '..');
        expect(checkChangeSet(pathsOf(withDotdot.join('/')), rules).allowed).toBe(false);
        const joined = segs.join('/');
        const i = at % (joined.length + 1);
        expect(checkChangeSet(pathsOf(joined.slice(0, i) + c + joined.slice(i)), rules).allowed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('while ordinary paths built from the same alphabet still pass', () => {
    // Guards the properties above against a checker that rejects everything.
    const ordinary = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => ['src', ...s].join('/'));
    fc.assert(
      fc.property(ordinary, (path) => {
        expect(checkChangeSet(pathsOf(path), rules).allowed).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('rule index', () => {
  const globPart = fc.oneof(
    segment,
    segment.map((s) => `${s}*`),
    segment.map((s) => `*${s}`),
    segment.map((s) => `*.${s}`),
    fc.constant('*'),
    fc.constant('**'),
    fc.tuple(segment, segment).map(([a, b]) => `{${a},${b}}`),
    fc.tuple(segment, segment).map(([a, b]) => `${a}?${b}`),
    segment.map((s) => `[a-m]${s}`),
  );
  const glob = fc.array(globPart, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
  const pathFrom = (pool: string[]): fc.Arbitrary<string> =>
    fc
      .array(
        fc.oneof(
          segment,
          fc.constantFrom(...pool),
          segment.map((s) => s.toUpperCase()),
          // Characters that minimatch matches case-insensitively to ASCII but toLowerCase
          // does not map to it: long s, Kelvin sign.
          fc.constantFrom(...pool).map((s) => s.replace(/s/g, '\u017f').replace(/k/g, '\u212a')),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((segs) => segs.join('/'));

  it('selects the same rules as testing every rule', () => {
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 1, maxLength: 8 }).chain((globs) => {
          // Paths reuse glob text as segments, so matches are common rather than rare.
          const pool = globs
            .flatMap((g) => g.split('/'))
            .map((p) => p.replace(/[*?[\]{},]/g, ''))
            .filter((p) => p !== '');
          return fc.tuple(fc.constant(globs), fc.array(pathFrom(pool.length > 0 ? pool : ['x']), { minLength: 1, maxLength: 20 }));
        }),
        ([globs, paths]) => {
          const compiled = compileRules(defaults, { forbid: globs.map((g) => ({ glob: g, reason: undefined })) });
          for (const path of paths) {
            const indexed: string[] = [];
            const exhaustive: string[] = [];
            matchRules(compiled, path, indexed);
            matchRulesExhaustively(compiled, path, exhaustive);
            expect(indexed.sort()).toEqual(exhaustive.sort());
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the check with its shortcuts (rule index, segments read in place, hashed repeat detection)', () => {
  const globPart = fc.oneof(
    segment,
    segment.map((s) => `${s}*`),
    segment.map((s) => `*${s}`),
    segment.map((s) => `*.${s}`),
    fc.constant('*'),
    fc.constant('**'),
    fc.tuple(segment, segment).map(([a, b]) => `{${a},${b}}`),
    fc.tuple(segment, segment).map(([a, b]) => `${a}?${b}`),
  );
  const glob = fc.array(globPart, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
  // Segments the shortcuts skip or read in place: Git names in odd spellings (dotted capital
  // I, Kelvin sign, long s, fullwidth), 8.3 short names, dots, empty segments.
  const tricky = fc.constantFrom(
    '.git',
    '.GIT',
    '.gİt',
    '.g\u0130t',
    'GIT~1',
    'git~12',
    'ENV~1',
    'ab~1.x',
    '~',
    '..',
    '.',
    '',
    ' .',
    '.env',
    '\u212aey',
    '\u017fecret',
    '\uff0egit',
    'a%2fb',
  );
  const pathFrom = (pool: string[]): fc.Arbitrary<string> =>
    fc
      .array(
        fc.oneof(
          segment,
          tricky,
          fc.constantFrom(...pool),
          segment.map((s) => s.toUpperCase()),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((segs) => segs.join('/'));
  const mode = fc.constantFrom('100644', '100755', '120000', '160000', '100600');

  it('gives the verdict of the check without them, on generated rules and change sets', () => {
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 0, maxLength: 8 }).chain((globs) => {
          const pool = globs
            .flatMap((g) => g.split('/'))
            .map((p) => p.replace(/[*?[\]{},]/g, ''))
            .filter((p) => p !== '');
          const path = pathFrom(pool.length > 0 ? pool : ['x']);
          const entry = fc.record({
            path,
            oldPath: fc.option(path, { nil: undefined }),
            mode,
            oldMode: fc.option(mode, { nil: undefined }),
            status: fc.constantFrom('added', 'modified', 'renamed', 'deleted'),
          });
          // Repeats are drawn from the same list so duplicates occur often.
          return fc.tuple(fc.constant(globs), fc.array(entry, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 5 }));
        }),
        ([globs, drawn, repeats]) => {
          const compiled = compileRules(defaults, { forbid: globs.map((g) => ({ glob: g, reason: undefined })) });
          const entries: ChangeSetEntry[] = drawn.map((e) => ({ ...e, size: 0 }));
          for (const r of repeats) entries.push({ ...entries[r % entries.length]! });
          const changeSet = { baseCommit: '0'.repeat(40), entries, totalBytes: 0 };
          expect(checkChangeSet(changeSet, compiled)).toEqual(checkChangeSetExhaustively(changeSet, compiled));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds every repeated path in a large change set, as a Set does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1000, maxLength: 4000 }), (ids) => {
        const entries: ChangeSetEntry[] = ids.map((id) => ({ path: `src/m${id % 7}/f${id}.ts`, status: 'modified', mode: '100644', size: 0 }));
        const changeSet = { baseCommit: '0'.repeat(40), entries, totalBytes: 0 };
        const lenient = compileRules(defaults, undefined, { maxFiles: 10_000 });
        const verdict = checkChangeSet(changeSet, lenient);
        expect(verdict).toEqual(checkChangeSetExhaustively(changeSet, lenient));
        expect(verdict.violations.filter((v) => v.ruleId === 'path.duplicate')).toHaveLength(ids.length - new Set(ids).size);
      }),
      { numRuns: 20 },
    );
  });
});
