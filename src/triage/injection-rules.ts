import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { UserzError } from '../errors.js';

/** rules/injection.yml, resolved from this file so it works from src/ (tsx, jest) and lib/ (build). */
export const DEFAULT_INJECTION_RULES_URL = new URL('../../rules/injection.yml', import.meta.url);

const PatternEntry = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  description: z.string().min(1),
  weight: z.number().min(0).max(10),
  target: z.enum(['normalized', 'raw']).default('normalized'),
  pattern: z.string().min(1),
});

const InjectionRulesFile = z.object({
  version: z.literal(1),
  threshold: z.number().positive(),
  limits: z.object({
    maxScanChars: z.number().int().positive(),
    oversizedWeight: z.number().min(0),
  }),
  patterns: z.array(PatternEntry).min(1),
});

export interface InjectionPattern {
  id: string;
  description: string;
  weight: number;
  target: 'normalized' | 'raw';
  regex: RegExp;
}

export interface InjectionRules {
  threshold: number;
  maxScanChars: number;
  oversizedWeight: number;
  patterns: readonly InjectionPattern[];
}

/**
 * A group that holds an unbounded quantifier and is itself repeated without bound, such as
 * `(a+)+` or `(?:x*y)*`: the classic catastrophic-backtracking shape. The check is
 * conservative (it can refuse a safe pattern), which is the right side to err on for a
 * file that anyone editing the rules may touch.
 */
const NESTED_UNBOUNDED = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\})/;
const UNBOUNDED_DOT = /(?<!\\)\.(?:[+*]|\{\d+,\})/;

function compilePattern(entry: z.infer<typeof PatternEntry>): InjectionPattern {
  if (NESTED_UNBOUNDED.test(entry.pattern) || UNBOUNDED_DOT.test(entry.pattern)) {
    throw new UserzError('injection_rules_invalid', `Injection pattern ${entry.id} has an unbounded nested repetition`, {
      details: { id: entry.id },
    });
  }
  let regex: RegExp;
  try {
    regex = new RegExp(entry.pattern, 'gu');
  } catch (e) {
    throw new UserzError('injection_rules_invalid', `Injection pattern ${entry.id} does not compile`, { details: { id: entry.id }, cause: e });
  }
  return { id: entry.id, description: entry.description, weight: entry.weight, target: entry.target, regex };
}

/** Parses and compiles an injection rules document (YAML text). Throws `injection_rules_invalid`. */
export function parseInjectionRules(yamlText: string): InjectionRules {
  const parsed = InjectionRulesFile.safeParse(parse(yamlText));
  if (!parsed.success) {
    throw new UserzError('injection_rules_invalid', 'Injection rules file does not match its schema', {
      details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  const ids = new Set<string>();
  for (const p of parsed.data.patterns) {
    if (ids.has(p.id)) throw new UserzError('injection_rules_invalid', `Injection pattern id ${p.id} is used twice`);
    ids.add(p.id);
  }
  return {
    threshold: parsed.data.threshold,
    maxScanChars: parsed.data.limits.maxScanChars,
    oversizedWeight: parsed.data.limits.oversizedWeight,
    patterns: parsed.data.patterns.map(compilePattern),
  };
}

let defaultRules: InjectionRules | undefined;

/** The shipped rules, read and compiled once per process. */
export function defaultInjectionRules(): InjectionRules {
  defaultRules ??= parseInjectionRules(readFileSync(DEFAULT_INJECTION_RULES_URL, 'utf8'));
  return defaultRules;
}
