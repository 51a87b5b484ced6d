/**
 * The default forbidden rules: rules/guardrail.yml, shipped with Userz. They are the
 * floor every repository policy builds on.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { RESERVED_RULE_ID_PREFIXES } from './verdict.js';

const RuleId = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$/, 'rule ids are lower-case words joined by "."')
  .refine((id) => !RESERVED_RULE_ID_PREFIXES.some((p) => id.startsWith(p)), 'rule id uses a reserved prefix');

export const ForbiddenRule = z.strictObject({
  id: RuleId,
  reason: z.string().min(1).max(300),
  globs: z.array(z.string()).min(1).max(50),
});
export type ForbiddenRule = z.infer<typeof ForbiddenRule>;

export const RuleSet = z
  .strictObject({
    version: z.literal(1),
    rules: z.array(ForbiddenRule).min(1).max(500),
  })
  .refine((set) => new Set(set.rules.map((r) => r.id)).size === set.rules.length, 'rule ids must be unique');
export type RuleSet = z.infer<typeof RuleSet>;

const DEFAULT_RULES_URL = new URL('../../rules/guardrail.yml', import.meta.url);

/** Reads and validates rules/guardrail.yml from the package root. */
export async function loadDefaultRules(): Promise<RuleSet> {
  return parseRuleSet(await readFile(DEFAULT_RULES_URL, 'utf8'));
}

export function parseRuleSet(yamlText: string): RuleSet {
  let data: unknown;
  try {
    data = parseYaml(yamlText, { maxAliasCount: 0, uniqueKeys: true });
  } catch (e) {
    throw new UserzError('guardrail_rules_invalid', 'The default guardrail rules are not valid YAML.', { cause: e });
  }
  const parsed = RuleSet.safeParse(data);
  if (!parsed.success) {
    throw new UserzError('guardrail_rules_invalid', `The default guardrail rules are invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
