/**
 * A repository whose own `.git/config` is hostile: the git tool must not run any program it
 * names. Inside the sandbox the host makes `.git` itself (test/sandbox/git-load.test.ts);
 * this is the second layer, the git tool on its own.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGit } from '../../src/runner/git-tool.js';
import { openWorkspace, type Workspace } from '../../src/runner/workspace-path.js';
import { createTempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
let ws: Workspace;

beforeEach(async () => {
  repo = createTempRepo({ 'README.md': '# demo\n', 'src/app.js': 'export const x = 1;\n', 'data.bin': 'payload\n' });
  ws = await openWorkspace(repo.root);
});
afterEach(() => repo.remove());

/** A program that leaves a file named after what ran it in the outside directory, then passes its input through. */
function tripwire(name: string): string {
  const path = join(repo.outside, `${name}.sh`);
  writeFileSync(path, `#!/bin/sh\ntouch ${join(repo.outside, `ran-${name}`)}\nexec cat "$@" 2>/dev/null\n`, { mode: 0o755 });
  return path;
}
const ran = () =>
  readdirSync(repo.outside)
    .filter((n) => n.startsWith('ran-'))
    .sort();
function hook(name: string): void {
  writeFileSync(join(repo.outside, name), `#!/bin/sh\ntouch ${join(repo.outside, `ran-${name}`)}\n`, { mode: 0o755 });
}

/** The same config through plain git (system and global config off, nothing forced): the tripwires do fire. */
function plainGitRuns(expected: string[]): void {
  writeFileSync(join(repo.root, 'data.bin'), 'plain change\n');
  writeFileSync(join(repo.root, 'README.md'), '# plain change\n');
  for (const args of [['add', '-A'], ['status'], ['diff', 'HEAD'], ['log', '-p', '-n1'], ['blame', 'data.bin']]) {
    try {
      repo.git(...args);
    } catch {
      // A tripwire standing in for a pager or gpg may make git fail; that it ran is what counts.
    }
  }
  repo.git('reset', '-q');
  repo.git('checkout', '--', '.');
  expect(ran()).toEqual(expect.arrayContaining(expected));
  for (const n of ran()) rmSync(join(repo.outside, n));
}
const appendConfig = (text: string) => writeFileSync(join(repo.root, '.git', 'config'), readFileSync(join(repo.root, '.git', 'config'), 'utf8') + text);

/** What an agent would run: every subcommand that reads or writes the files git filters. */
async function exerciseGit(): Promise<void> {
  writeFileSync(join(repo.root, 'data.bin'), 'changed payload\n');
  writeFileSync(join(repo.root, 'README.md'), '# changed\n');
  for (const args of [
    ['status'],
    ['diff'],
    ['diff', 'HEAD', '--stat'],
    ['add', 'data.bin', 'README.md'],
    ['diff', '--cached'],
    ['log', '-p', '-n1'],
    ['show', 'HEAD'],
    ['blame', 'data.bin'],
    ['grep', '-e', 'payload'],
    ['ls-files', '-m'],
    ['restore', '--staged', 'data.bin'],
    ['rm', '--cached', '-q', 'README.md'],
  ]) {
    const result = await runGit(ws, args);
    expect([args.join(' '), result.ok]).toEqual([args.join(' '), true]);
  }
}

describe('git tool against a repository config that names programs', () => {
  it('never runs a filter driver that .gitattributes selects, whatever its name', async () => {
    // Names git cannot be told about in advance: with a dot, and with `=` (which `-c` would split on).
    appendConfig(
      [
        `[filter "lfs"]\n\tclean = ${tripwire('clean')}\n\tsmudge = ${tripwire('smudge')}\n\trequired = true\n`,
        `[filter "a.b=c"]\n\tclean = ${tripwire('clean2')}\n\tprocess = ${tripwire('process')}\n`,
      ].join(''),
    );
    writeFileSync(join(repo.root, '.gitattributes'), '*.bin filter=lfs\n*.md filter=a.b=c\n');
    plainGitRuns(['ran-clean', 'ran-process']);
    await exerciseGit();
    expect(ran()).toEqual([]);
  });

  it('never runs fsmonitor, hooks, pagers, textconv, diff commands, signature programs or included config', async () => {
    const included = join(repo.outside, 'included.gitconfig');
    writeFileSync(included, `[core]\n\tfsmonitor = ${tripwire('included-fsmonitor')}\n[diff "inc"]\n\ttextconv = ${tripwire('included-textconv')}\n`);
    appendConfig(
      [
        `[include]\n\tpath = ${included}\n`,
        `[core]\n\tfsmonitor = ${tripwire('fsmonitor')}\n\tpager = ${tripwire('pager')}\n\thooksPath = ${repo.outside}\n`,
        `[pager]\n\tstatus = ${tripwire('pager-status')}\n\tlog = ${tripwire('pager-log')}\n`,
        `[diff]\n\texternal = ${tripwire('external')}\n`,
        `[diff "evil"]\n\ttextconv = ${tripwire('textconv')}\n\tcommand = ${tripwire('diff-command')}\n`,
        `[log]\n\tshowSignature = true\n[gpg]\n\tprogram = ${tripwire('gpg')}\n`,
        `[gc]\n\tauto = 1\n`,
      ].join(''),
    );
    writeFileSync(join(repo.root, '.gitattributes'), '*.bin diff=evil\n*.md diff=inc\n');
    for (const name of ['post-index-change', 'reference-transaction']) hook(name);
    plainGitRuns(['ran-fsmonitor', 'ran-post-index-change', 'ran-textconv', 'ran-included-textconv']);
    await exerciseGit();
    expect(ran()).toEqual([]);
  });

  it('keeps git on the workspace when the config moves core.worktree elsewhere', async () => {
    writeFileSync(join(repo.outside, 'elsewhere.txt'), 'outside\n');
    appendConfig(`[core]\n\tworktree = ${repo.outside}\n`);
    // Outside, every tracked file would show as deleted and the outside files as untracked.
    expect(await runGit(ws, ['status', '--short'])).toEqual({ ok: true, output: '' });
    expect(await runGit(ws, ['ls-files', '-o'])).toEqual({ ok: true, output: '' });
    expect(await runGit(ws, ['ls-files'])).toEqual({ ok: true, output: 'README.md\ndata.bin\nsrc/app.js\n' });
  });
});
