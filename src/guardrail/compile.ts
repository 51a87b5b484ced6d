/**
 * Compiles the default rules and a repository policy once per run into matchers, plus an
 * index that picks, for each path, the few rules that could match it. A change set can
 * hold many thousands of paths; testing each against every glob is the slow part.
 */
import { Minimatch } from 'minimatch';
import { UserzError, errorMessage } from '../errors.js';
import { ALLOW_GLOB_OPTIONS, FORBID_GLOB_OPTIONS, findGlobProblem } from './glob-safety.js';
import { DEFAULT_LIMITS, type ChangeSetLimits } from './limits.js';
import { POLICY_PATH, type Policy } from './policy.js';
import type { RuleSet } from './rules.js';

export interface CompiledRule {
  readonly id: string;
  readonly reason: string;
  readonly source: 'default' | 'policy';
  readonly matchers: readonly Minimatch[];
}

/**
 * Rules by anchor: a literal that one path segment must equal (`exact`), start with or
 * end with (`prefix`/`suffix`: two lower-case characters packed in a number, so a lookup
 * allocates no string). Exact literals are found by their first two characters and
 * length too, and compared in place, so a segment that equals none costs no slice and no
 * string hash: most paths match no rule. A rule lands in
 * `always` when some expansion of one of its globs has no such anchor.
 */
interface RuleIndex {
  readonly exact: ReadonlyMap<number, readonly ExactAnchor[]>;
  readonly prefix: ReadonlyMap<number, readonly number[]>;
  readonly suffix: ReadonlyMap<number, readonly number[]>;
  readonly always: readonly number[];
}

export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
  /** Present when the policy has an `allow` list. */
  readonly allow?: readonly Minimatch[];
  readonly limits: Readonly<ChangeSetLimits>;
  readonly index: RuleIndex;
}

const ASCII = /^[\u0020-\u007e]*$/;
const MAGIC = /[*?[\]\\]/;
const KEY = 2;
const pairKey = (s: string, at: number): number => (s.charCodeAt(at) << 16) | s.charCodeAt(at + 1);
/** Key of the exact literal that could equal s[from, to): its length and first two characters (printable ASCII). */
const exactKey = (s: string, from: number, to: number): number =>
  (to - from) * 0x4000 + (s.charCodeAt(from) << 7) + (to - from > 1 ? s.charCodeAt(from + 1) : 0);

interface ExactAnchor {
  readonly literal: string;
  readonly rules: number[];
}

export function compileRules(defaults: RuleSet, policy?: Policy, limits: Partial<ChangeSetLimits> = {}): CompiledRules {
  const rules: CompiledRule[] = defaults.rules.map((rule) => ({
    id: rule.id,
    reason: rule.reason,
    source: 'default',
    matchers: rule.globs.map((glob) => compileGlob(glob, 'guardrail_rules_invalid', 'rules/guardrail.yml')),
  }));
  policy?.forbid.forEach((entry, i) => {
    rules.push({
      id: `policy.forbid.${i + 1}`,
      reason: entry.reason ?? `Forbidden by the repository policy (${POLICY_PATH}): ${entry.glob}`,
      source: 'policy',
      matchers: [compileGlob(entry.glob, 'policy_invalid', POLICY_PATH)],
    });
  });
  const allow = policy?.allow?.map((glob) => compileGlob(glob, 'policy_invalid', POLICY_PATH, ALLOW_GLOB_OPTIONS));
  return { rules, allow, limits: resolveLimits(limits), index: indexRules(rules) };
}

function compileGlob(glob: string, code: 'guardrail_rules_invalid' | 'policy_invalid', origin: string, options = FORBID_GLOB_OPTIONS): Minimatch {
  const fail = (why: string, cause?: unknown): UserzError =>
    new UserzError(code, `${origin} is invalid: glob ${JSON.stringify(glob.slice(0, 80))} ${why}`, { cause });
  const problem = findGlobProblem(glob);
  if (problem !== undefined) throw fail(problem);
  try {
    return new Minimatch(glob, { ...options });
  } catch (e) {
    throw fail(`cannot be compiled (${errorMessage(e)})`, e);
  }
}

function resolveLimits(overrides: Partial<ChangeSetLimits>): ChangeSetLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new UserzError('guardrail_limits_invalid', `Guardrail limit ${name} must be a positive integer.`);
    }
  }
  return limits;
}

function indexRules(rules: readonly CompiledRule[]): RuleIndex {
  const exact = new Map<number, ExactAnchor[]>();
  const prefix = new Map<number, number[]>();
  const suffix = new Map<number, number[]>();
  const always: number[] = [];
  const put = <K>(map: Map<K, number[]>, key: K, ruleIndex: number): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [ruleIndex]);
    else if (list[list.length - 1] !== ruleIndex) list.push(ruleIndex);
  };

  rules.forEach((rule, ruleIndex) => {
    const anchors = rule.matchers.flatMap((m) => m.globParts.map(anchorOf));
    if (anchors.some((a) => a === undefined)) {
      always.push(ruleIndex);
      return;
    }
    for (const { kind, key } of anchors as Anchor[]) {
      if (kind === 'exact') putExact(exact, key, ruleIndex);
      else put(kind === 'prefix' ? prefix : suffix, pairKey(key, 0), ruleIndex);
    }
  });
  return { exact, prefix, suffix, always };
}

function putExact(exact: Map<number, ExactAnchor[]>, literal: string, ruleIndex: number): void {
  const key = exactKey(literal, 0, literal.length);
  let anchors = exact.get(key);
  if (anchors === undefined) exact.set(key, (anchors = []));
  const anchor = anchors.find((a) => a.literal === literal);
  if (anchor === undefined) anchors.push({ literal, rules: [ruleIndex] });
  else if (anchor.rules[anchor.rules.length - 1] !== ruleIndex) anchor.rules.push(ruleIndex);
}

/**
 * The most selective anchor among the parts of one expanded glob. Only printable ASCII
 * text is used as an anchor: minimatch's case-insensitive comparison of other characters
 * (`ſ` matches `s`) does not agree with toLowerCase.
 */
interface Anchor {
  kind: 'exact' | 'prefix' | 'suffix';
  key: string;
}

function anchorOf(parts: readonly string[]): Anchor | undefined {
  let best: Anchor | undefined;
  for (const part of parts) {
    if (part === '' || part === '**' || !ASCII.test(part)) continue;
    if (!MAGIC.test(part)) return { kind: 'exact', key: part.toLowerCase() };
    if (best?.kind === 'prefix') continue;
    const head = part.slice(0, part.search(MAGIC));
    if (head.length >= KEY) {
      best = { kind: 'prefix', key: head.slice(0, KEY).toLowerCase() };
      continue;
    }
    const tail = part.slice(lastMagicIndex(part) + 1);
    if (best === undefined && tail.length >= KEY) best = { kind: 'suffix', key: tail.slice(-KEY).toLowerCase() };
  }
  return best;
}

function lastMagicIndex(part: string): number {
  for (let i = part.length - 1; i >= 0; i--) if (MAGIC.test(part[i]!)) return i;
  return -1;
}

/**
 * Adds to `hits` the id of every rule that matches `path`. For printable-ASCII paths only
 * the indexed candidates are tested; any other path is tested against every rule.
 */
export function matchRules(compiled: CompiledRules, path: string, hits: string[], lower = path.toLowerCase()): void {
  if (!ASCII.test(path)) {
    matchRulesExhaustively(compiled, path, hits);
    return;
  }
  // Each rule is tried at most once per path: stamp it with this call's generation.
  const stamps = stampsOf(compiled);
  const generation = (stamps.generation += 1);
  tryRules(compiled, compiled.index.always, path, hits, stamps.tried, generation);
  const { exact, prefix, suffix } = compiled.index;
  let from = 0;
  while (from <= lower.length) {
    let to = lower.indexOf('/', from);
    if (to === -1) to = lower.length;
    if (to > from) {
      const anchors = exact.get(exactKey(lower, from, to));
      if (anchors !== undefined) {
        for (const a of anchors) if (lower.startsWith(a.literal, from)) tryRules(compiled, a.rules, path, hits, stamps.tried, generation);
      }
    }
    if (to - from >= KEY) {
      tryRules(compiled, prefix.get(pairKey(lower, from)), path, hits, stamps.tried, generation);
      tryRules(compiled, suffix.get(pairKey(lower, to - KEY)), path, hits, stamps.tried, generation);
    }
    from = to + 1;
  }
}

interface Stamps {
  tried: Uint32Array;
  generation: number;
}
const stampsByRules = new WeakMap<CompiledRules, Stamps>();

function stampsOf(compiled: CompiledRules): Stamps {
  let stamps = stampsByRules.get(compiled);
  if (stamps === undefined || stamps.generation >= 0xfffffff0) {
    stamps = { tried: new Uint32Array(compiled.rules.length), generation: 0 };
    stampsByRules.set(compiled, stamps);
  }
  return stamps;
}

function tryRules(compiled: CompiledRules, list: readonly number[] | undefined, path: string, hits: string[], tried: Uint32Array, generation: number): void {
  if (list === undefined) return;
  for (const i of list) {
    if (tried[i] === generation) continue;
    tried[i] = generation;
    const rule = compiled.rules[i]!;
    if (matchesRule(rule, path) && !hits.includes(rule.id)) hits.push(rule.id);
  }
}

function matchesRule(rule: CompiledRule, path: string): boolean {
  for (const m of rule.matchers) if (m.match(path)) return true;
  return false;
}

/** Every rule tested against `path`, without the index: the reference `matchRules` must agree with. */
export function matchRulesExhaustively(compiled: CompiledRules, path: string, hits: string[]): void {
  for (const rule of compiled.rules) if (matchesRule(rule, path) && !hits.includes(rule.id)) hits.push(rule.id);
}

export function isAllowed(compiled: CompiledRules, path: string): boolean {
  if (compiled.allow === undefined) return true;
  for (const m of compiled.allow) if (m.match(path)) return true;
  return false;
}
