import {
  CHANGE_SET_PATH,
  checkChangeSet,
  compileRules,
  loadDefaultRules,
  parsePolicy,
  type CompiledRules,
  type RuleSet,
  type Verdict,
} from '../../src/guardrail/index.js';
import { readFileSync } from 'node:fs';
import { changeSetOf, entry, pathsOf } from './change-sets.js';

let defaults: RuleSet;
let rules: CompiledRules;

beforeAll(async () => {
  defaults = await loadDefaultRules();
  rules = compileRules(defaults);
});

const ruleIdsOf = (verdict: Verdict, path?: string): string[] => verdict.violations.filter((v) => path === undefined || v.path === path).map((v) => v.ruleId);

function verdictFor(path: string, compiled: CompiledRules = rules): Verdict {
  return checkChangeSet(pathsOf(path), compiled);
}

describe('checkChangeSet with the default rules', () => {
  it('allows an ordinary change set', () => {
    const verdict = checkChangeSet(pathsOf('src/app.ts', 'README.md', 'docs/setup.md', '.gitignore', '.github/ISSUE_TEMPLATE/bug.md'), rules);
    expect(verdict).toEqual({ allowed: true, violations: [] });
  });

  it.each([
    ['.env', 'secrets.dotenv'],
    ['.ENV', 'secrets.dotenv'],
    ['.Env.local', 'secrets.dotenv'],
    ['a/b/.env', 'secrets.dotenv'],
    ['a/.env.production', 'secrets.dotenv'],
    ['config/.env/values', 'secrets.dotenv'],
    ['.github/workflows/x.yml', 'ci.github_workflows'],
    ['.GitHub/Workflows/CI.yml', 'ci.github_workflows'],
    // Documented choice: nested workflow directories are refused too (rules/guardrail.yml).
    ['sub/.github/workflows/x.yml', 'ci.github_workflows'],
    ['.git/config', 'git.metadata'],
    ['a/.git/hooks/pre-commit', 'git.metadata'],
    ['infra/main.tf', 'infra'],
    ['INFRA/modules/vpc.tf', 'infra'],
    ['scripts/release/publish.sh', 'release.scripts'],
    ['.userz.yml', 'userz.policy_file'],
    ['.USERZ.YML', 'userz.policy_file'],
  ])('rejects %s under %s', (path, ruleId) => {
    const verdict = verdictFor(path);
    expect(verdict.allowed).toBe(false);
    expect(ruleIdsOf(verdict, path)).toContain(ruleId);
  });

  // Every place GitHub Actions, GitLab CI and hosted CI services read a definition from
  // a pushed branch (rules/guardrail.yml, ci.*).
  it.each([
    ['.github/actions/setup/action.yml', 'ci.github_actions'],
    ['.github/Actions/x/action.yml', 'ci.github_actions'],
    ['.github/actions/build/index.js', 'ci.github_actions'],
    ['.github/actions/docker/Dockerfile', 'ci.github_actions'],
    ['.github/actions', 'ci.github_actions'],
    ['action.yml', 'ci.github_actions'],
    ['ACTION.YAML', 'ci.github_actions'],
    ['tools/lint/action.yml', 'ci.github_actions'],
    ['tools/lint/Action.Yaml', 'ci.github_actions'],
    ['.github/dependabot.yml', 'ci.dependency_bots'],
    ['.github/Dependabot.YAML', 'ci.dependency_bots'],
    ['a/.github/dependabot.yml', 'ci.dependency_bots'],
    ['renovate.json', 'ci.dependency_bots'],
    ['.github/Renovate.JSON5', 'ci.dependency_bots'],
    ['.renovaterc', 'ci.dependency_bots'],
    ['.pre-commit-config.yaml', 'ci.hosted_services'],
    ['.gitmodules', 'git.submodules_file'],
    ['vendor/lib/.GitModules', 'git.submodules_file'],
    ['.gitlab-ci.yml', 'ci.gitlab_pipeline'],
    ['.GitLab-CI.yml', 'ci.gitlab_pipeline'],
    ['.gitlab-ci.yaml', 'ci.gitlab_pipeline'],
    ['services/api/.gitlab-ci.yml', 'ci.gitlab_pipeline'],
    ['ci/test.gitlab-ci.yml', 'ci.gitlab_pipeline'],
    ['templates/Deploy.GITLAB-CI.YAML', 'ci.gitlab_pipeline'],
    ['.gitlab/ci/build.yml', 'ci.gitlab_directory'],
    ['.GitLab/CI/jobs/test.yml', 'ci.gitlab_directory'],
    ['.gitlab/ci/scripts/deploy.sh', 'ci.gitlab_directory'],
    ['.gitlab/agents/prod/config.yaml', 'ci.gitlab_directory'],
    ['.gitlab/CODEOWNERS', 'ci.gitlab_directory'],
    ['.gitlab', 'ci.gitlab_directory'],
    ['.circleci/config.yml', 'ci.hosted_services'],
    ['.CircleCI/Config.yml', 'ci.hosted_services'],
    ['.travis.yml', 'ci.hosted_services'],
    ['azure-pipelines.yml', 'ci.hosted_services'],
    ['.buildkite/pipeline.yml', 'ci.hosted_services'],
    ['Jenkinsfile', 'ci.hosted_services'],
    ['ci/JENKINSFILE', 'ci.hosted_services'],
    ['Jenkinsfile.release', 'ci.hosted_services'],
    ['.drone.yml', 'ci.hosted_services'],
    ['.woodpecker/test.yml', 'ci.hosted_services'],
    ['appveyor.yml', 'ci.hosted_services'],
    ['.cirrus.yml', 'ci.hosted_services'],
    ['.semaphore/semaphore.yml', 'ci.hosted_services'],
    ['cloudbuild.yaml', 'ci.hosted_services'],
    ['buildspec.yml', 'ci.hosted_services'],
    ['bitbucket-pipelines.yml', 'ci.hosted_services'],
    ['.gitea/workflows/ci.yml', 'ci.hosted_services'],
    ['.forgejo/workflows/ci.yml', 'ci.hosted_services'],
  ])('rejects the CI definition %s under %s', (path, ruleId) => {
    const verdict = verdictFor(path);
    expect(verdict.allowed).toBe(false);
    expect(ruleIdsOf(verdict, path)).toContain(ruleId);
  });

  it.each([
    'src/backup~',
    'src/a~b.ts',
    'src/longer-name~1.ts',
    'src/environment.ts',
    'docs/env.md',
    'infrastructure/readme.md',
    'src/infra/x.ts',
    'scripts/release-notes.md',
    '.envelope/x',
    'src/actions.ts',
    'src/store/actions/action.ts',
    'docs/action.yml.md',
    'docs/gitlab-ci.md',
    'src/gitlab/client.ts',
    '.github/CODEOWNERS',
    '.github/ISSUE_TEMPLATE/config.yml',
    'src/jenkins.ts',
  ])('allows %s, which only looks like a forbidden path', (path) => {
    expect(verdictFor(path)).toEqual({ allowed: true, violations: [] });
  });

  // A file (or link) where a CI directory is: delivered with a base tree, the entry replaces
  // the whole directory, so every workflow in it goes without a single delete in the change set.
  it.each([
    ['.github', 'ci.github_workflows'],
    ['.GitHub.', 'ci.github_workflows'],
    ['sub/.github', 'ci.github_workflows'],
    ['.woodpecker', 'ci.hosted_services'],
    ['.semaphore', 'ci.hosted_services'],
    ['.azure-pipelines', 'ci.hosted_services'],
    ['.gitea/workflows', 'ci.hosted_services'],
    ['.forgejo/workflows', 'ci.hosted_services'],
    ['.gitea', 'ci.hosted_services'],
    ['.forgejo', 'ci.hosted_services'],
  ])('rejects a file named like the CI directory %j (%s), which would replace the directory', (path, ruleId) => {
    const verdict = checkChangeSet(changeSetOf(entry(path, { status: 'added' })), rules);
    expect(ruleIdsOf(verdict, path)).toContain(ruleId);
  });

  it('gives each violation the rule reason from rules/guardrail.yml', () => {
    const [v] = verdictFor('.env').violations;
    expect(v).toEqual({ path: '.env', ruleId: 'secrets.dotenv', reason: defaults.rules.find((r) => r.id === 'secrets.dotenv')!.reason });
  });

  it('lists every offending file, not only the first', () => {
    const verdict = checkChangeSet(pathsOf('src/ok.ts', '.env', 'infra/a.tf', 'lib/ok.ts', '.github/workflows/ci.yml'), rules);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations.map((v) => [v.path, v.ruleId])).toEqual([
      ['.env', 'secrets.dotenv'],
      ['infra/a.tf', 'infra'],
      ['.github/workflows/ci.yml', 'ci.github_workflows'],
    ]);
  });
});

describe('renames', () => {
  it('rejects a rename away from a forbidden path, naming the old path', () => {
    const verdict = checkChangeSet(changeSetOf(entry('config/defaults.txt', { oldPath: '.env' })), rules);
    expect(verdict.violations).toEqual([expect.objectContaining({ path: '.env', ruleId: 'secrets.dotenv' })]);
  });

  it('rejects a rename onto a forbidden path', () => {
    const verdict = checkChangeSet(changeSetOf(entry('.github/workflows/ci.yml', { oldPath: 'docs/ci.yml' })), rules);
    expect(verdict.violations).toEqual([expect.objectContaining({ path: '.github/workflows/ci.yml', ruleId: 'ci.github_workflows' })]);
  });

  it('checks the structure of the old path too', () => {
    const verdict = checkChangeSet(changeSetOf(entry('src/a.ts', { oldPath: '../outside' })), rules);
    expect(ruleIdsOf(verdict, '../outside')).toEqual(['path.dotdot']);
  });

  it('rejects a rename entry without its old path', () => {
    const verdict = checkChangeSet(changeSetOf(entry('src/a.ts', { status: 'renamed' })), rules);
    expect(ruleIdsOf(verdict)).toEqual(['entry.invalid']);
  });
});

describe('file modes', () => {
  it('rejects a symlink even when its path is allowed', () => {
    expect(ruleIdsOf(checkChangeSet(changeSetOf(entry('src/link', { mode: '120000' })), rules))).toEqual(['mode.symlink']);
  });

  it('rejects turning a symlink into a regular file', () => {
    const verdict = checkChangeSet(changeSetOf(entry('src/link', { mode: '100644', oldMode: '120000' })), rules);
    expect(ruleIdsOf(verdict)).toEqual(['mode.symlink']);
  });

  it('rejects a submodule', () => {
    expect(ruleIdsOf(checkChangeSet(changeSetOf(entry('vendor/lib', { mode: '160000' })), rules))).toEqual(['mode.submodule']);
  });

  it('rejects modes Git never writes for a file', () => {
    for (const mode of ['100664', '040000', '755', '']) {
      expect(ruleIdsOf(checkChangeSet(changeSetOf(entry('src/a.ts', { mode })), rules))).toEqual(['mode.unknown']);
    }
  });

  it('allows an executable bit change on an ordinary path', () => {
    const verdict = checkChangeSet(changeSetOf(entry('bin/run.sh', { mode: '100755', oldMode: '100644' })), rules);
    expect(verdict.allowed).toBe(true);
  });

  it('flags an executable bit change on a forbidden path on top of the path rule', () => {
    const verdict = checkChangeSet(changeSetOf(entry('scripts/release/publish.sh', { mode: '100755', oldMode: '100644' })), rules);
    expect(ruleIdsOf(verdict)).toEqual(['release.scripts', 'mode.exec_on_forbidden']);
  });

  it('does not flag an executable bit change when the mode stays the same', () => {
    const verdict = checkChangeSet(changeSetOf(entry('scripts/release/publish.sh', { mode: '100755', oldMode: '100755' })), rules);
    expect(ruleIdsOf(verdict)).toEqual(['release.scripts']);
  });
});

describe('path structure', () => {
  it.each([
    ['..', 'path.dotdot'],
    ['../x', 'path.dotdot'],
    ['a/../b', 'path.dotdot'],
    ['a/.. /b', 'path.dotdot'],
    ['/etc/passwd', 'path.absolute'],
    ['C:/Windows/x', 'path.absolute'],
    ['a\\b', 'path.backslash'],
    ['a\u0000b', 'path.control_char'],
    ['a\nb', 'path.control_char'],
    ['a\rb', 'path.control_char'],
    ['a\u0085b', 'path.control_char'],
    ['a\u202eb', 'path.invisible_char'],
    ['a\u200bb', 'path.invisible_char'],
    ['a\ud800b', 'path.invalid_unicode'],
    ['./x', 'path.non_canonical'],
    ['a//b', 'path.non_canonical'],
    ['a/', 'path.non_canonical'],
    ['a/./b', 'path.non_canonical'],
    ['', 'path.non_canonical'],
    ['.git', 'path.git_component'],
    ['.GIT/HEAD', 'path.git_component'],
    ['x/y/.Git/config', 'path.git_component'],
    ['.git./config', 'path.git_component'],
    ['.git /config', 'path.git_component'],
    ['git~1/config', 'path.git_component'],
    ['GIT~1/config', 'path.git_component'],
    ['.g\u200cit/config', 'path.git_component'],
    ['ENV~1', 'path.short_name'],
    ['GITHUB~1/workflows/ci.yml', 'path.short_name'],
    ['docs/REPORT~12.PDF', 'path.short_name'],
    ['.ｇｉｔ/config', 'path.git_component'],
  ])('rejects %j with %s', (path, ruleId) => {
    const verdict = verdictFor(path);
    expect(verdict.allowed).toBe(false);
    expect(ruleIdsOf(verdict, path)).toContain(ruleId);
  });

  it('rejects a path over the total byte cap', () => {
    const path = `${'abcdefgh/'.repeat(455)}x`.padEnd(4097, 'y');
    expect(ruleIdsOf(verdictFor(path))).toEqual(['path.too_long']);
    expect(verdictFor(path.slice(0, 4096)).allowed).toBe(true);
  });

  it('counts a segment cap in UTF-8 bytes, not characters', () => {
    expect(ruleIdsOf(verdictFor(`docs/${'€'.repeat(86)}.md`))).toEqual(['path.too_long']);
    expect(verdictFor(`docs/${'€'.repeat(84)}.md`).allowed).toBe(true);
  });

  it('rejects the same path twice in one change set', () => {
    const verdict = checkChangeSet(changeSetOf(entry('src/a.ts'), entry('src/a.ts')), rules);
    expect(ruleIdsOf(verdict)).toEqual(['path.duplicate']);
  });
});

describe('Unicode and client spellings of forbidden paths', () => {
  it.each([
    ['.ＥＮＶ', 'fullwidth letters'],
    ['\uff0eenv', 'fullwidth full stop'],
    ['.e\u0301nv', 'combining accent'],
    ['.énv', 'precomposed accent'],
    ['.\ud835\udc1e\ud835\udc27\ud835\udc2f', 'mathematical bold letters'],
    ['ſcripts/release/x.sh', 'long s'],
    ['.env.', 'NTFS trailing dot'],
    ['.env ', 'NTFS trailing space'],
    ['.env::$DATA', 'NTFS stream name'],
    ['infra./main.tf', 'NTFS trailing dot on a directory'],
  ])('rejects %j (%s) under the rule it spells', (path) => {
    const verdict = verdictFor(path);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations.some((v) => !v.ruleId.startsWith('path.'))).toBe(true);
  });

  it.each([
    ['.\uff27\uff49\uff54\uff2c\uff41\uff42-\uff23\uff29.yml', 'fullwidth GitLab pipeline file', 'ci.gitlab_pipeline'],
    ['.github/\uff41\uff43\uff54\uff49\uff4f\uff4e\uff53/x/index.js', 'fullwidth actions directory', 'ci.github_actions'],
    ['tools/\ud835\udc1a\ud835\udc1c\ud835\udc2d\ud835\udc22\ud835\udc28\ud835\udc27.yml', 'mathematical bold action.yml', 'ci.github_actions'],
    ['.gitla\u0301b/ci/build.yml', 'combining accent in .gitlab', 'ci.gitlab_directory'],
    ['.ciṙcleci/config.yml', 'precomposed dot above in .circleci', 'ci.hosted_services'],
    ['.github/actionſ/x/run.sh', 'long s in actions', 'ci.github_actions'],
    ['.gitlab-ci.yml.', 'NTFS trailing dot on the pipeline file', 'ci.gitlab_pipeline'],
    ['action.yml::$DATA', 'NTFS stream name on action.yml', 'ci.github_actions'],
  ])('rejects the CI definition %j (%s) under %s', (path, _how, ruleId) => {
    const verdict = verdictFor(path);
    expect(verdict.allowed).toBe(false);
    expect(ruleIdsOf(verdict, path)).toContain(ruleId);
  });

  // NTFS compares names by upper-casing them, so `ı` (dotless i) is `I` is `i` there; full
  // upper-casing also turns `ß` into `SS`. Folding must see what such a client sees.
  it.each([
    ['.g\u0131thub/workflows/ci.yml', 'dotless i in .github', 'ci.github_workflows'],
    ['act\u0131on.yml', 'dotless i in action.yml', 'ci.github_actions'],
    ['.G\u0130THUB/WORKFLOWS/CI.YML', 'dotted capital I in .GITHUB', 'ci.github_workflows'],
    ['.gitlab-c\u0131.yml', 'dotless i in the GitLab pipeline file', 'ci.gitlab_pipeline'],
  ])('rejects the CI definition %j (%s) under %s, as an upper-casing client resolves it', (path, _how, ruleId) => {
    expect(ruleIdsOf(verdictFor(path), path)).toContain(ruleId);
  });

  it.each(['deploy/pa\u00df.txt', 'deploy/PA\u1e9e.txt'])('matches a policy glob spelled with "ss" against %j (sharp s)', (path) => {
    const compiled = compileRules(defaults, parsePolicy('forbid:\n  - "deploy/pass.txt"\n'));
    expect(ruleIdsOf(verdictFor(path, compiled), path)).toContain('policy.forbid.1');
  });

  // Forge APIs take paths in JSON, but a client or proxy that decodes percent-escapes once
  // (or twice) must not turn an allowed name into a forbidden one.
  it.each([
    ['.github%2fworkflows%2fci.yml', 'encoded slashes', 'ci.github_workflows'],
    ['.github%2Fworkflows/ci.yml', 'upper-case escape', 'ci.github_workflows'],
    ['.github%252fworkflows%252fci.yml', 'double-encoded slashes', 'ci.github_workflows'],
    ['%2egitlab-ci.yml', 'encoded dot', 'ci.gitlab_pipeline'],
    ['.gitlab-ci.yml%20', 'encoded trailing space', 'ci.gitlab_pipeline'],
    ['.github%5cactions%5cx%5caction.yml', 'encoded backslashes', 'ci.github_actions'],
  ])('rejects the CI definition %j (%s) under %s once percent-escapes are decoded', (path, _how, ruleId) => {
    expect(ruleIdsOf(verdictFor(path), path)).toContain(ruleId);
  });

  // Look-alikes a reviewer reads as the real name: harmless where they are, live the moment
  // someone "fixes" the spelling, like a nested workflows directory.
  it.each([
    ['.github\u2215workflows/ci.yml', 'division slash', 'ci.github_workflows'],
    ['.github\u2044workflows/ci.yml', 'fraction slash', 'ci.github_workflows'],
    ['.github/workflows\u3002/ci.yml', 'ideographic full stop', 'ci.github_workflows'],
    ['.gitlab\u2011ci.yml', 'non-breaking hyphen', 'ci.gitlab_pipeline'],
    ['.gitlab\u2212ci.yml', 'minus sign', 'ci.gitlab_pipeline'],
    ['.gitlab\u2013ci.yml', 'en dash', 'ci.gitlab_pipeline'],
    ['.github/w\u043erkflows/ci.yml', 'Cyrillic o', 'ci.github_workflows'],
    ['.gitl\u0430b-ci.yml', 'Cyrillic a', 'ci.gitlab_pipeline'],
    ['\u0430ction.yml', 'Cyrillic a in action.yml', 'ci.github_actions'],
    ['.gitlab-ci.ym\u04cf', 'Cyrillic palochka for l', 'ci.gitlab_pipeline'],
    ['.\u0261ithub/workflows/ci.yml', 'Latin script g', 'ci.github_workflows'],
    ['.gith\u1d1cb/workflows/ci.yml', 'small capital U', 'ci.github_workflows'],
    ['.github/work\u0192lows/ci.yml', 'f with hook', 'ci.github_workflows'],
    ['action.y\u1d0dl', 'small capital M', 'ci.github_actions'],
    ['.github/w\u03bfrkflows/ci.yml', 'Greek omicron', 'ci.github_workflows'],
  ])('rejects the CI look-alike %j (%s) under %s', (path, _how, ruleId) => {
    expect(ruleIdsOf(verdictFor(path), path)).toContain(ruleId);
  });

  it.each(['docs/ru/\u0440\u0443\u043a\u043e\u0432\u043e\u0434\u0441\u0442\u0432\u043e.md', 'docs/stra\u00dfe.md', 'src/100%25.ts', 'docs/\u0131stanbul.md'])(
    'still allows the ordinary non-ASCII or escaped name %j',
    (path) => {
      expect(verdictFor(path)).toEqual({ allowed: true, violations: [] });
    },
  );
});

describe('caps', () => {
  const small = (): CompiledRules => compileRules(defaults, undefined, { maxFiles: 3, maxTotalBytes: 10, maxFileBytes: 6 });
  const sized = (path: string, bytes: number) => entry(path, { content: Buffer.alloc(bytes, 0x61) });

  it('rejects more files than the cap, once for the whole change set', () => {
    const verdict = checkChangeSet(changeSetOf(sized('a', 1), sized('b', 1), sized('c', 1), sized('d', 1)), small());
    expect(verdict.violations).toEqual([expect.objectContaining({ path: CHANGE_SET_PATH, ruleId: 'size.too_many_files' })]);
  });

  it('rejects a file over the per-file cap and a total over the total cap', () => {
    const verdict = checkChangeSet(changeSetOf(sized('a', 7), sized('b', 5)), small());
    expect(verdict.violations.map((v) => [v.path, v.ruleId])).toEqual([
      ['a', 'size.file_too_large'],
      [CHANGE_SET_PATH, 'size.total_too_large'],
    ]);
  });

  it('accepts a change set exactly at the caps', () => {
    expect(checkChangeSet(changeSetOf(sized('a', 6), sized('b', 4)), small()).allowed).toBe(true);
  });

  it('has defaults of 500 files, 5 MiB total and 1 MiB per file', () => {
    expect(rules.limits).toEqual(expect.objectContaining({ maxFiles: 500, maxTotalBytes: 5 * 1024 * 1024, maxFileBytes: 1024 * 1024 }));
    const many = changeSetOf(...Array.from({ length: 501 }, (_, i) => entry(`f${i}`)));
    expect(ruleIdsOf(checkChangeSet(many, rules))).toEqual(['size.too_many_files']);
  });

  it('does not trust a declared size that disagrees with the content', () => {
    const lying = { ...sized('a', 5000), size: 1 };
    expect(ruleIdsOf(checkChangeSet(changeSetOf(lying), small()))).toContain('size.mismatch');
  });

  it('does not trust a declared total that disagrees with the entries', () => {
    const cs = { ...changeSetOf(sized('a', 2)), totalBytes: 0 };
    expect(ruleIdsOf(checkChangeSet(cs, small()))).toEqual(['size.total_mismatch']);
  });
});

describe('repository policy', () => {
  it("accepts the README's example for CI-executed files and refuses what it lists", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = /```yaml\n(# \.userz\.yml: CI-executed files[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const compiled = compileRules(defaults, parsePolicy(example!));
    for (const path of [
      'ci/build.yml',
      'package.json',
      'services/api/Makefile',
      'Dockerfile.prod',
      'noxfile.py',
      'docs/CODEOWNERS',
      '.devcontainer/devcontainer.json',
    ]) {
      expect(ruleIdsOf(verdictFor(path, compiled), path).some((id) => id.startsWith('policy.forbid.'))).toBe(true);
    }
    expect(verdictFor('src/total.js', compiled).allowed).toBe(true);
  });

  it('adds forbidden globs with their own rule ids and reasons', () => {
    const compiled = compileRules(defaults, parsePolicy('forbid:\n  - "secrets/**"\n  - glob: "**/*.pem"\n    reason: Keys are issued elsewhere.\n'));
    const verdict = checkChangeSet(pathsOf('secrets/a', 'certs/Server.PEM', 'src/a.ts'), compiled);
    expect(verdict.violations).toEqual([
      expect.objectContaining({ path: 'secrets/a', ruleId: 'policy.forbid.1' }),
      { path: 'certs/Server.PEM', ruleId: 'policy.forbid.2', reason: 'Keys are issued elsewhere.' },
    ]);
  });

  it('narrows changes to the allow list', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: ["src/**", "docs/*.md"]'));
    const verdict = checkChangeSet(pathsOf('src/a/b.ts', 'docs/x.md', 'docs/deep/x.md', 'package.json'), compiled);
    expect(verdict.violations.map((v) => [v.path, v.ruleId])).toEqual([
      ['docs/deep/x.md', 'policy.not_allowed'],
      ['package.json', 'policy.not_allowed'],
    ]);
  });

  it('matches the allow list on the exact spelling', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: ["src/**"]'));
    expect(ruleIdsOf(checkChangeSet(pathsOf('SRC/a.ts'), compiled))).toEqual(['policy.not_allowed']);
  });

  it('applies the allow list to the old path of a rename', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: ["src/**"]'));
    const verdict = checkChangeSet(changeSetOf(entry('src/a.ts', { oldPath: 'lib/a.ts' })), compiled);
    expect(verdict.violations).toEqual([expect.objectContaining({ path: 'lib/a.ts', ruleId: 'policy.not_allowed' })]);
  });

  it('cannot allow a default-forbidden path by listing it', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: [".env", ".github/**", "**"]'));
    const verdict = checkChangeSet(pathsOf('.env', '.github/workflows/ci.yml', 'src/a.ts'), compiled);
    expect(verdict.violations.map((v) => [v.path, v.ruleId])).toEqual([
      ['.env', 'secrets.dotenv'],
      ['.github/workflows/ci.yml', 'ci.github_workflows'],
    ]);
  });

  it('treats a path outside the allow list as forbidden for executable bit changes', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: ["src/**"]'));
    const verdict = checkChangeSet(changeSetOf(entry('bin/run', { mode: '100755' })), compiled);
    expect(ruleIdsOf(verdict)).toEqual(['policy.not_allowed', 'mode.exec_on_forbidden']);
  });

  it('protects its own file', () => {
    const compiled = compileRules(defaults, parsePolicy('allow: ["**"]'));
    expect(ruleIdsOf(checkChangeSet(pathsOf('.userz.yml'), compiled))).toEqual(['userz.policy_file']);
  });
});
