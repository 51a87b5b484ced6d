import { describe, expect, it } from '@jest/globals';
import { defaultInjectionRules, parseInjectionRules, prefilterReport } from '../../src/triage/index.js';

const doc = (pattern: string, extra = ''): string => `
version: 1
threshold: 1.0
limits: { maxScanChars: 1000, oversizedWeight: 1.0 }
patterns:
  - id: probe
    description: test pattern
    weight: 0.7
    pattern: '${pattern}'
${extra}`;

describe('injection rules', () => {
  it('ships rules in which every pattern has an id, a description and a weight', () => {
    const rules = defaultInjectionRules();
    expect(rules.patterns.length).toBeGreaterThanOrEqual(10);
    for (const p of rules.patterns) {
      expect(p.id).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(p.description.length).toBeGreaterThan(0);
      expect(p.weight).toBeGreaterThan(0);
    }
  });

  it('compiles the shipped rules once per process', () => {
    expect(defaultInjectionRules()).toBe(defaultInjectionRules());
  });

  it.each(['(a+)+b', '(?:x*y)*', '(\\w+\\s?){2,}z', 'ignore.*instructions', 'a.+b'])('refuses a pattern with unbounded nested repetition: %s', (pattern) => {
    expect(() => parseInjectionRules(doc(pattern))).toThrow(expect.objectContaining({ code: 'injection_rules_invalid' }));
  });

  it('accepts bounded repetition and uses the weight as the signal score', () => {
    const rules = parseInjectionRules(doc('(?:\\w+ ){0,3}probe'));
    expect(prefilterReport({ text: 'one two probe' }, rules).signals).toEqual([{ id: 'probe', score: 0.7, count: 1 }]);
  });

  it('refuses a pattern that does not compile, a duplicate id and a schema violation', () => {
    expect(() => parseInjectionRules(doc('(unclosed'))).toThrow(expect.objectContaining({ code: 'injection_rules_invalid' }));
    const dup = doc('x', '  - id: probe\n    description: again\n    weight: 1\n    pattern: y');
    expect(() => parseInjectionRules(dup)).toThrow(expect.objectContaining({ code: 'injection_rules_invalid' }));
    expect(() => parseInjectionRules('version: 1\npatterns: []')).toThrow(expect.objectContaining({ code: 'injection_rules_invalid' }));
  });
});
