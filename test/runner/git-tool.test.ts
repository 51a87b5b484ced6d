import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkGitArgs, runGit } from '../../src/runner/git-tool.js';
import { openWorkspace, type Workspace } from '../../src/runner/workspace-path.js';
import { createTempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
let ws: Workspace;

beforeAll(async () => {
  repo = createTempRepo();
  symlinkSync(repo.outside, join(repo.root, 'out-dir'));
  ws = await openWorkspace(repo.root);
});
afterAll(() => repo.remove());

const marker = () => join(repo.outside, 'ran');
const payload = () => `touch ${marker()}`;

describe('git argument allowlist', () => {
  const refused: Array<[string, () => string[]]> = [
    ['-c core.pager before the subcommand', () => ['-c', `core.pager=${payload()}`, 'log']],
    ['-c after the subcommand', () => ['status', '-c', `core.fsmonitor=${payload()}`]],
    ['--exec', () => ['rebase', `--exec=${payload()}`]],
    ['--exec on an allowed subcommand', () => ['log', `--exec=${payload()}`]],
    ['diff --ext-diff', () => ['diff', '--ext-diff']],
    ['diff --output=', () => ['diff', `--output=${join(repo.outside, 'out.patch')}`]],
    ['log --output=', () => ['log', '-p', `--output=${join(repo.root, '.git/hooks/pre-commit')}`]],
    ['push', () => ['push', 'origin', 'main']],
    ['fetch with --upload-pack', () => ['fetch', `--upload-pack=${payload()}`, 'origin']],
    ['--upload-pack injected into an allowed subcommand', () => ['log', `--upload-pack=${payload()}`]],
    ['config', () => ['config', 'core.hooksPath', repo.outside]],
    ['-C /', () => ['-C', '/', 'status']],
    ['-C after the subcommand', () => ['status', '-C', '/']],
    ['--git-dir', () => ['--git-dir=/tmp', 'status']],
    ['--work-tree', () => ['status', '--work-tree=/']],
    ['clone', () => ['clone', 'https://example.com/x.git']],
    ['remote', () => ['remote', 'add', 'x', 'https://example.com']],
    ['submodule', () => ['submodule', 'update']],
    ['grep -O runs a pager command', () => ['grep', `-O${payload()}`, 'x']],
    ['grep --open-files-in-pager', () => ['grep', `--open-files-in-pager=${payload()}`, 'x']],
    ['diff --no-index reads outside files', () => ['diff', '--no-index', '/etc/passwd', 'README.md']],
    ['interactive add -p', () => ['add', '-p']],
    ['add --chmod', () => ['add', '--chmod=+x', 'README.md']],
    ['restore of the worktree', () => ['restore', 'README.md']],
    ['alias-looking subcommand', () => ['!sh', '-c', payload()]],
    ['__proto__ as a subcommand', () => ['__proto__']],
    ['commit', () => ['commit', '-m', 'x']],
    ['hook run', () => ['hook', 'run', 'pre-commit']],
  ];

  test.each(refused)('refuses %s', async (_name, args) => {
    expect(() => checkGitArgs(args())).toThrow(expect.objectContaining({ code: 'tool_git_refused' }));
    await expect(runGit(ws, args())).rejects.toMatchObject({ code: 'tool_git_refused' });
    expect(existsSync(marker())).toBe(false);
  });

  test('allows common read-only and staging calls', () => {
    for (const args of [
      ['status', '--short'],
      ['diff', '--cached', '--stat'],
      ['log', '--oneline', '-n5'],
      ['show', 'HEAD', '--name-only'],
      ['grep', '-n', '-i', 'demo'],
      ['add', 'README.md'],
      ['restore', '--staged', 'README.md'],
      ['diff', '--', '--output=x'],
    ]) {
      expect(checkGitArgs(args)).toEqual(args);
    }
  });
});

describe('running git', () => {
  test('stages and reports changes inside the workspace', async () => {
    writeFileSync(join(repo.root, 'README.md'), '# changed\n');
    expect(await runGit(ws, ['add', 'README.md'])).toEqual({ ok: true, output: '' });
    expect(await runGit(ws, ['status', '--short'])).toEqual({ ok: true, output: 'M  README.md\n?? out-dir\n' });
    expect(await runGit(ws, ['restore', '--staged', 'README.md'])).toEqual({ ok: true, output: '' });
  });

  test('hooks in the repository never run, even if present', async () => {
    // git runs post-index-change whenever it writes the index, which `add` does.
    const hook = join(repo.root, '.git', 'hooks', 'post-index-change');
    writeFileSync(hook, `#!/bin/sh\n${payload()}\n`, { mode: 0o755 });
    writeFileSync(join(repo.root, 'hooked.txt'), 'x\n');
    try {
      expect(await runGit(ws, ['add', 'hooked.txt'])).toEqual({ ok: true, output: '' });
      expect(existsSync(marker())).toBe(false);
    } finally {
      rmSync(hook);
      await runGit(ws, ['rm', '--cached', '-q', 'hooked.txt']);
    }
  });

  test('repository config cannot start a pager or an external diff', async () => {
    const configPath = join(repo.root, '.git', 'config');
    const original = readFileSync(configPath, 'utf8');
    writeFileSync(
      configPath,
      `${original}[core]\n\tpager = ${payload()}\n\tfsmonitor = ${join(repo.outside, 'fsmon.sh')}\n[diff]\n\texternal = ${join(repo.outside, 'ext.sh')}\n`,
    );
    writeFileSync(join(repo.outside, 'ext.sh'), `#!/bin/sh\n${payload()}\n`, { mode: 0o755 });
    writeFileSync(join(repo.outside, 'fsmon.sh'), `#!/bin/sh\n${payload()}\n`, { mode: 0o755 });
    try {
      const diff = await runGit(ws, ['diff', 'HEAD']);
      await runGit(ws, ['status']);
      await runGit(ws, ['log', '-p', '-n1']);
      expect(diff.ok).toBe(true);
      expect(diff.output).toContain('+# changed');
      expect(existsSync(marker())).toBe(false);
    } finally {
      writeFileSync(configPath, original);
    }
  });

  test('add through a symlinked directory that leads out is refused', async () => {
    await expect(runGit(ws, ['add', 'out-dir/secret.txt'])).rejects.toMatchObject({ code: 'tool_path_refused' });
    await expect(runGit(ws, ['mv', 'README.md', 'out-dir/README.md'])).rejects.toMatchObject({ code: 'tool_path_refused' });
    await expect(runGit(ws, ['add', '.git/config'])).rejects.toMatchObject({ code: 'tool_path_refused' });
    await expect(runGit(ws, ['add', ':(top)x'])).rejects.toMatchObject({ code: 'tool_git_refused' });
    expect(existsSync(join(repo.outside, 'README.md'))).toBe(false);
  });

  test('a failing git command is an ok:false answer with its message', async () => {
    const result = await runGit(ws, ['show', 'no-such-rev']);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('no-such-rev');
  });
});
