/**
 * Globs come from rules/guardrail.yml and from the repository's own `.userz.yml`, which
 * is written by whoever controls that repository. Before a glob is compiled we refuse the
 * shapes that would be slow to build or match (huge brace ranges, many stars) and the
 * shapes that could never match a checked path, so a policy never silently does nothing.
 */
import type { MinimatchOptions } from 'minimatch';
import { isWellFormedUnicode } from './path-shape.js';

/**
 * Options for every forbidden glob. `nocase` and `dot` because forge clients on macOS and
 * Windows treat paths case-insensitively and dotfiles are exactly what we protect;
 * `noext`, `nonegate` and `nocomment` so `+(…)`, a leading `!` or `#` can never change
 * what a rule means; `platform` pins POSIX separators whatever host runs the check.
 */
export const FORBID_GLOB_OPTIONS: Readonly<MinimatchOptions> = Object.freeze({
  dot: true,
  nocase: true,
  noext: true,
  nonegate: true,
  nocomment: true,
  platform: 'linux',
});

/**
 * Options for the policy's `allow` list. It only narrows what the agent may touch, so it
 * matches the exact spelling: `SRC/x` does not pass `allow: [src/**]`.
 */
export const ALLOW_GLOB_OPTIONS: Readonly<MinimatchOptions> = Object.freeze({ ...FORBID_GLOB_OPTIONS, nocase: false });

export const GLOB_LIMITS = Object.freeze({
  maxLength: 512,
  maxBraceExpansions: 256,
  maxStars: 16,
  maxGlobstars: 4,
});

/** Returns why a glob is refused, or undefined when it may be compiled. */
export function findGlobProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'is empty';
  if (glob.length > GLOB_LIMITS.maxLength) return `is longer than ${GLOB_LIMITS.maxLength} characters`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(glob)) return 'contains a control character';
  if (!isWellFormedUnicode(glob)) return 'is not well-formed Unicode';
  if (glob.startsWith('!')) return 'is a negation; a policy can add rules but never remove one';
  if (/[?*+@!]\(/.test(glob)) return 'uses extglob syntax, which is not supported';
  if (glob.startsWith('/')) return 'is absolute; globs are relative to the repository root';
  const segments = glob.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'contains a "." or ".." segment, which never matches a checked path';
  if (segments.some((s, i) => s === '' && i < segments.length - 1)) return 'contains an empty segment';
  const stars = glob.match(/\*/g)?.length ?? 0;
  if (stars > GLOB_LIMITS.maxStars) return `has more than ${GLOB_LIMITS.maxStars} "*"`;
  if (segments.filter((s) => s === '**').length > GLOB_LIMITS.maxGlobstars) return `has more than ${GLOB_LIMITS.maxGlobstars} "**" segments`;
  const expansions = countBraceExpansions(glob, GLOB_LIMITS.maxBraceExpansions);
  if (expansions > GLOB_LIMITS.maxBraceExpansions) return `expands to more than ${GLOB_LIMITS.maxBraceExpansions} patterns`;
  return undefined;
}

const RANGE = /^(?:(-?\d+)\.\.(-?\d+)|([a-zA-Z])\.\.([a-zA-Z]))(?:\.\.(-?\d+))?$/;

/**
 * Upper bound of how many patterns brace expansion makes from a glob, computed without
 * expanding it. Returns `cap + 1` as soon as the bound passes `cap`, so a glob such as
 * `{1..100000}{1..100000}` costs nothing to refuse.
 */
export function countBraceExpansions(glob: string, cap: number): number {
  const over = cap + 1;
  let pos = 0;

  // A sequence ends at end of input, or at ',' / '}' when inside a group.
  const sequence = (inGroup: boolean): number => {
    let count = 1;
    while (pos < glob.length) {
      const c = glob[pos];
      if (c === '\\') {
        pos += 2;
      } else if (c === '{') {
        count = Math.min(over, count * group());
      } else if (inGroup && (c === ',' || c === '}')) {
        return count;
      } else {
        pos += 1;
      }
    }
    return count;
  };

  // At '{'. Sums the alternatives; a lone alternative is a range or a literal.
  const group = (): number => {
    const open = pos;
    pos += 1;
    const alternatives: number[] = [];
    let start = pos;
    for (;;) {
      alternatives.push(sequence(true));
      if (pos >= glob.length) {
        // Unclosed: brace expansion keeps it literally, but count what we saw, which is
        // an upper bound either way.
        return Math.min(
          over,
          alternatives.reduce((a, b) => a + b, 0),
        );
      }
      if (glob[pos] === '}') break;
      pos += 1; // ','
      start = pos;
    }
    const close = pos;
    pos += 1;
    if (alternatives.length > 1)
      return Math.min(
        over,
        alternatives.reduce((a, b) => a + b, 0),
      );
    const range = RANGE.exec(glob.slice(start, close));
    if (range === null || close - open < 2) return alternatives[0] ?? 1;
    const [from, to] = range[1] !== undefined ? [Number(range[1]), Number(range[2])] : [range[3]!.charCodeAt(0), range[4]!.charCodeAt(0)];
    const step = Math.max(1, Math.abs(Number(range[5] ?? 1)));
    return Math.min(over, Math.floor(Math.abs(to - from) / step) + 1);
  };

  return sequence(false);
}
