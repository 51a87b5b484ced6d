/**
 * The guardrail: default rules, the repository policy, and the check of a change set
 * that decides whether anything is pushed at all.
 *
 *   const rules = compileRules(await loadDefaultRules(), parsePolicy(policyText));
 *   const verdict = checkChangeSet(changeSet, rules);
 */
export { FILE_MODE } from './change-set.js';
export type { ChangeSet, ChangeSetEntry, ChangeStatus, FileMode } from './change-set.js';
export { checkChangeSet } from './check.js';
export { runGuardrailCheck } from './cli.js';
export type { GuardrailCheckOptions } from './cli.js';
export { compileRules } from './compile.js';
export type { CompiledRule, CompiledRules } from './compile.js';
export { foldPath } from './path-shape.js';
export { DEFAULT_LIMITS } from './limits.js';
export type { ChangeSetLimits } from './limits.js';
export { MAX_POLICY_BYTES, POLICY_PATH, parsePolicy } from './policy.js';
export type { Policy } from './policy.js';
export { loadDefaultRules, parseRuleSet } from './rules.js';
export type { ForbiddenRule, RuleSet } from './rules.js';
export { CHANGE_SET_PATH, CHANGE_SET_RULES, STRUCTURAL_RULES } from './verdict.js';
export type { Verdict, Violation } from './verdict.js';
