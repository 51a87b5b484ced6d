import { compileRules, loadDefaultRules, parsePolicy, parseRuleSet, POLICY_PATH, type Policy } from '../../src/guardrail/index.js';
import { countBraceExpansions, findGlobProblem } from '../../src/guardrail/glob-safety.js';
import { UserzError } from '../../src/errors.js';

function policyError(text: string): UserzError {
  try {
    parsePolicy(text);
  } catch (e) {
    expect(e).toBeInstanceOf(UserzError);
    return e as UserzError;
  }
  throw new Error('expected parsePolicy to throw');
}

describe('default rules (rules/guardrail.yml)', () => {
  it('loads every rule the issue lists, each with an id and a reason', async () => {
    const rules = await loadDefaultRules();
    const byId = new Map(rules.rules.map((r) => [r.id, r]));
    expect([...byId.keys()].sort()).toEqual(
      [
        'ci.github_actions',
        'ci.dependency_bots',
        'ci.github_workflows',
        'ci.gitlab_directory',
        'ci.gitlab_pipeline',
        'ci.hosted_services',
        'git.metadata',
        'git.submodules_file',
        'infra',
        'release.scripts',
        'secrets.dotenv',
        'userz.policy_file',
      ].sort(),
    );
    for (const rule of rules.rules) expect(rule.reason.length).toBeGreaterThan(10);
    expect(byId.get('userz.policy_file')!.globs).toContain(POLICY_PATH);
  });

  it('compiles with no policy', async () => {
    const compiled = compileRules(await loadDefaultRules());
    expect(compiled.rules.map((r) => r.source)).toEqual(compiled.rules.map(() => 'default'));
    expect(compiled.allow).toBeUndefined();
  });

  it('refuses a rule file whose id takes a prefix reserved for built-in checks', () => {
    const text = 'version: 1\nrules:\n  - id: path.mine\n    reason: because\n    globs: ["x"]\n';
    expect(() => parseRuleSet(text)).toThrow(expect.objectContaining({ code: 'guardrail_rules_invalid' }));
  });

  it('refuses a rule file with duplicate ids', () => {
    const rule = '  - id: same\n    reason: because\n    globs: ["x"]\n';
    expect(() => parseRuleSet(`version: 1\nrules:\n${rule}${rule}`)).toThrow(expect.objectContaining({ code: 'guardrail_rules_invalid' }));
  });
});

describe('parsePolicy', () => {
  it('reads forbid globs in both forms and an allow list', () => {
    const policy = parsePolicy(
      ['version: 1', 'forbid:', '  - "secrets/**"', '  - glob: "*.pem"', '    reason: Keys are issued elsewhere.', 'allow:', '  - "src/**"'].join('\n'),
    );
    expect(policy).toEqual({
      version: 1,
      forbid: [
        { glob: 'secrets/**', reason: undefined },
        { glob: '*.pem', reason: 'Keys are issued elsewhere.' },
      ],
      allow: ['src/**'],
    });
  });

  it('treats an empty or comment-only file as a policy that adds nothing', () => {
    expect(parsePolicy('')).toEqual({ forbid: [] });
    expect(parsePolicy('# nothing yet\n')).toEqual({ forbid: [] });
  });

  it('fails closed with policy_invalid on malformed YAML', () => {
    const e = policyError('forbid: [unclosed\n');
    expect(e.code).toBe('policy_invalid');
    expect(e.message).toContain('.userz.yml is invalid: not valid YAML');
  });

  it('fails closed on a document of the wrong shape', () => {
    expect(policyError('forbid: "secrets/**"\n').code).toBe('policy_invalid');
    expect(policyError('- a\n- b\n').code).toBe('policy_invalid');
    expect(policyError('forbid:\n  - 42\n').code).toBe('policy_invalid');
    expect(policyError('version: 2\n').code).toBe('policy_invalid');
  });

  it('refuses keys that try to remove or override a default instead of ignoring them', () => {
    for (const key of ['remove', 'except', 'override', 'rules']) {
      const e = policyError(`${key}:\n  - ".env"\n`);
      expect(e.code).toBe('policy_invalid');
      expect(e.message).toContain(key);
    }
  });

  it('refuses negated globs in forbid and in allow', () => {
    expect(policyError('forbid:\n  - "!.env"\n').message).toContain('negation');
    expect(policyError('allow:\n  - "!.github/**"\n').message).toContain('negation');
  });

  it('refuses a pathological brace range when the policy loads', () => {
    const e = policyError('forbid:\n  - "logs/{1..100000}.txt"\n');
    expect(e.code).toBe('policy_invalid');
    expect(e.message).toContain('expands to more than');
  });

  it('refuses braces whose product explodes even when each group is small', () => {
    expect(policyError(`forbid:\n  - "${'{a,b,c}'.repeat(6)}"\n`).message).toContain('expands to more than');
  });

  it('accepts a small brace range', () => {
    expect(parsePolicy('forbid:\n  - "logs/{1..3}.txt"\n').forbid).toHaveLength(1);
  });

  it('refuses extglobs, absolute globs, ".." globs, overlong globs and star-heavy globs', () => {
    expect(policyError('forbid:\n  - "+(a|b)"\n').message).toContain('extglob');
    expect(policyError('forbid:\n  - "/etc/**"\n').message).toContain('absolute');
    expect(policyError('forbid:\n  - "a/../b"\n').message).toContain('".."');
    expect(policyError(`forbid:\n  - "${'a'.repeat(600)}"\n`).message).toContain('longer than');
    expect(policyError(`forbid:\n  - "${'*a'.repeat(20)}"\n`).message).toContain('"*"');
    expect(policyError('forbid:\n  - ""\n').message).toContain('empty');
  });

  it('refuses YAML aliases and duplicate keys', () => {
    expect(policyError('a: &x ["s/**"]\nforbid: *x\n').code).toBe('policy_invalid');
    expect(policyError('forbid: ["a"]\nforbid: ["b"]\n').code).toBe('policy_invalid');
  });

  it('refuses a policy file over the size cap', () => {
    const big = `forbid:\n${'  - "x"\n'.repeat(10_000)}`;
    expect(policyError(big).message).toContain('larger than');
  });
});

describe('compileRules', () => {
  it('guards globs itself, so a policy built without parsePolicy cannot bring a pathological glob', async () => {
    const policy: Policy = { forbid: [{ glob: '{1..100000}', reason: undefined }] };
    expect(() => compileRules(parseRuleSet('version: 1\nrules:\n  - id: a\n    reason: r\n    globs: ["a"]\n'), policy)).toThrow(
      expect.objectContaining({ code: 'policy_invalid' }),
    );
    const negated: Policy = { forbid: [], allow: ['!src/**'] };
    const defaults = await loadDefaultRules();
    expect(() => compileRules(defaults, negated)).toThrow(expect.objectContaining({ code: 'policy_invalid' }));
  });

  it('refuses limits that are not positive integers', async () => {
    const defaults = await loadDefaultRules();
    expect(() => compileRules(defaults, undefined, { maxFiles: 0 })).toThrow(expect.objectContaining({ code: 'guardrail_limits_invalid' }));
  });

  it('gives policy rules their own ids after the defaults', async () => {
    const compiled = compileRules(await loadDefaultRules(), parsePolicy('forbid: ["a/**", "b/**"]'));
    expect(compiled.rules.slice(-2).map((r) => r.id)).toEqual(['policy.forbid.1', 'policy.forbid.2']);
  });
});

describe('countBraceExpansions', () => {
  it('counts alternatives, ranges and products', () => {
    expect(countBraceExpansions('{a,b}{1..3}', 1000)).toBe(6);
    expect(countBraceExpansions('{a,{b,c}}', 1000)).toBe(3);
    expect(countBraceExpansions('x/{1..10..2}', 1000)).toBe(5);
    expect(countBraceExpansions('{a..z}', 1000)).toBe(26);
    expect(countBraceExpansions('plain', 1000)).toBe(1);
  });

  it('stops at the cap without expanding', () => {
    expect(countBraceExpansions('{1..100000}{1..100000}', 256)).toBe(257);
  });

  it('does not count escaped braces', () => {
    expect(countBraceExpansions('\\{1..100000\\}', 256)).toBe(1);
    expect(findGlobProblem('\\{1..100000\\}')).toBeUndefined();
  });
});
