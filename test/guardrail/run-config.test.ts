import { parsePolicy, runConfigOf } from '../../src/guardrail/index.js';

const invalid = (text: string): string => {
  try {
    parsePolicy(text);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('policy_invalid');
    return (e as Error).message;
  }
  throw new Error('expected policy_invalid');
};

describe('.userz.yml run configuration', () => {
  it('reads setup, check, egress, instructions, require_passing_checks and test_file_command beside the guardrail keys', () => {
    const policy = parsePolicy(
      [
        'forbid: ["secrets/**"]',
        'setup: [npm ci]',
        'check:',
        '  - npm test',
        '  - npm run lint',
        'egress: { allow: [npm] }',
        'instructions: docs/AGENTS.md',
        'require_passing_checks: true',
        'test_file_command: "node --test {file}"',
      ].join('\n'),
    );
    expect(policy.forbid).toEqual([{ glob: 'secrets/**', reason: undefined }]);
    expect(runConfigOf(policy)).toEqual({
      setup: ['npm ci'],
      check: ['npm test', 'npm run lint'],
      egressAllow: ['npm'],
      instructions: 'docs/AGENTS.md',
      requirePassingChecks: true,
      testFileCommand: 'node --test {file}',
    });
  });

  it('defaults to no setup, no checks and checks that do not block', () => {
    expect(runConfigOf(parsePolicy('forbid: []\n'))).toEqual({ setup: [], check: [], egressAllow: [], requirePassingChecks: false });
    expect(runConfigOf(undefined)).toMatchObject({ check: [], requirePassingChecks: false });
  });

  it('refuses too many or too long commands, odd egress names, unsafe instruction paths and a template without {file}', () => {
    expect(invalid(`check:\n${'  - npm test\n'.repeat(21)}`)).toContain('check');
    expect(invalid(`setup: ["${'x'.repeat(2001)}"]`)).toContain('setup');
    expect(invalid('check: ["  "]')).toContain('check');
    expect(invalid('egress: { allow: ["https://evil.example"] }')).toContain('egress');
    for (const path of ['../AGENTS.md', '/etc/passwd', 'a/../b', '-rf', 'a b.md']) expect(invalid(`instructions: "${path}"`)).toContain('instructions');
    expect(invalid('test_file_command: "npm test"')).toContain('{file}');
    expect(invalid('require_passing_checks: "yes"')).toContain('require_passing_checks');
    expect(invalid('checks: [npm test]')).toContain('checks');
  });
});
