/**
 * The guardrail: default rules, the repository policy, and the check of a change set
 * that decides whether anything is pushed at all.
 *
 *   const rules = compileRules(await loadDefaultRules(), parsePolicy(policyText));
 *   const verdict = checkChangeSet(changeSet, rules);
 *   if (!verdict.allowed) // end the run as pr_failed with verdict.violations
 *
 * Choices, each with a test in test/guardrail/:
 * - Non-canonical spellings (`./x`, `a//b`, `a/./b`, trailing `/`, empty) are rejected,
 *   not normalised, so the checked string is exactly the pushed one.
 * - Rules match the raw path (minimatch, `dot`, `nocase`) and its folded spelling (NFKC,
 *   lower case, marks and ignorables dropped, NTFS trailing dots/spaces and `:stream`
 *   dropped). Folding may over-match odd names; that errs towards refusing.
 * - Invisible and bidi-control characters, C0/C1 controls, lone surrogates, `.git` in any
 *   spelling (incl. `git~1`) and 8.3 short names (`ENV~1`) are refused outright.
 * - Nested `.github/workflows` directories are forbidden too (GitHub only runs the root
 *   one, but a moved directory goes live and a reviewer can miss it).
 * - Symlink or submodule mode on either side of an entry is refused, deletes included.
 * - The policy's unknown keys (`remove`, `override`…) and negated globs are refused with
 *   `policy_invalid`, never ignored. Its `allow` list matches the exact spelling
 *   (case-sensitive) because it only narrows.
 * - Sizes are recomputed from the entries; a declared size or total that disagrees is a
 *   violation. Violations about the whole set carry CHANGE_SET_PATH (`''`) and a rule id
 *   in CHANGE_SET_RULES.
 */
export { FILE_MODE } from './change-set.js';
export type { ChangeSet, ChangeSetEntry } from './change-set.js';
export { checkChangeSet } from './check.js';
export { runGuardrailCheck } from './cli.js';
export { compileRules } from './compile.js';
export type { CompiledRules } from './compile.js';
export { foldPath } from './path-shape.js';
export { DEFAULT_INSTRUCTIONS_PATH, POLICY_PATH, parsePolicy, runConfigOf } from './policy.js';
export type { Policy, RunConfig } from './policy.js';
export { loadDefaultRules, parseRuleSet } from './rules.js';
export type { RuleSet } from './rules.js';
export { CHANGE_SET_PATH } from './verdict.js';
export type { Verdict } from './verdict.js';
