/**
 * A tree that brings its own `.git` (as `userz sandbox run --workspace DIR` allows) with
 * every git route to a program armed: fsmonitor, hooks, a filter driver selected by
 * .gitattributes, included config, a nested repository with its own fsmonitor. Loading it
 * into a real runsc sandbox, and running git there afterwards, must start none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sandboxRun } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';

let dir: string;

// Inside the sandbox: leaves /tmp/userz-ran-<route>, starts a daemon, passes stdin through (for filters).
const EVIL = '#!/bin/sh\ntouch "/tmp/userz-ran-$1"\nsetsid sleep 600 </dev/null >/dev/null 2>&1 &\nexec cat\n';

function put(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
  chmodSync(join(dir, path), mode);
}

beforeAll(() => {
  prepareSandboxEngine();
  dir = mkdtempSync(join(tmpdir(), 'userz-untrusted-git-'));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, env: { PATH: process.env.PATH!, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  put('README.md', '# app\n');
  put('data.bin', 'payload\n');
  put('.gitattributes', '* filter=lfs diff=evil\n');
  put('tools/evil.sh', EVIL, 0o755);
  put('tools/included.gitconfig', '[core]\n\tfsmonitor = /work/tools/evil.sh included-fsmonitor\n');
  git(dir, 'init', '-q', '-b', 'main');
  put(
    '.git/config',
    [
      '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = "/work/tools/evil.sh fsmonitor"\n',
      '[include]\n\tpath = /work/tools/included.gitconfig\n',
      '[filter "lfs"]\n\tclean = /work/tools/evil.sh clean\n\tsmudge = /work/tools/evil.sh smudge\n\trequired = true\n',
      '[diff "evil"]\n\ttextconv = /work/tools/evil.sh textconv\n',
    ].join(''),
  );
  for (const hook of ['pre-commit', 'post-commit', 'post-index-change', 'reference-transaction', 'post-checkout']) {
    put(`.git/hooks/${hook}`, `#!/bin/sh\nexec /work/tools/evil.sh hook-${hook} </dev/null\n`, 0o755);
  }
  // A nested repository with its own armed config: git status would look inside it.
  put('vendor/lib/index.js', 'module.exports = 1;\n');
  git(join(dir, 'vendor/lib'), 'init', '-q', '-b', 'main');
  git(join(dir, 'vendor/lib'), '-c', 'user.name=v', '-c', 'user.email=v@example.com', 'commit', '-q', '--allow-empty', '-m', 'vendored');
  put('vendor/lib/.git/config', '[core]\n\tfsmonitor = "/work/tools/evil.sh nested-fsmonitor"\n', 0o644);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs in the sandbox after the load: git as any process would run it, then what ran. */
const CHECK = String.raw`
const fs = require('fs');
const { execFileSync } = require('child_process');
fs.writeFileSync('/work/data.bin', 'changed\n');
for (const args of [['status'], ['add', '-A'], ['diff', '--cached'], ['log', '-p'], ['status', '--ignore-submodules=none']]) {
  try { execFileSync('git', args, { cwd: '/work', stdio: 'ignore' }); } catch (e) {}
}
const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).map((p) => {
  try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\0').join(' ').trim(); } catch (e) { return ''; }
}).filter((c) => c && c !== 'sleep infinity' && !c.includes('docker-init'));
console.log(JSON.stringify({
  ran: fs.readdirSync('/tmp').filter((n) => n.startsWith('userz-ran-')).sort(),
  processes: procs,
  nestedGit: fs.existsSync('/work/vendor/lib/.git'),
  hooks: fs.readdirSync('/work/.git/hooks').filter((n) => !n.endsWith('.sample')),
  config: fs.readFileSync('/work/.git/config', 'utf8'),
  tracked: execFileSync('git', ['ls-files'], { cwd: '/work', encoding: 'utf8' }).split('\n').filter(Boolean),
}));
`;

describe('a workspace that carries its own .git', () => {
  it('loads as a fresh repository: no hook, fsmonitor, filter or nested repository of its own runs, then or later', async () => {
    const res = await sandboxRun({ workspace: dir, argv: ['node', '-e', CHECK], config: testSandboxConfig('untrusted-git') });
    expect(res.exitCode).toBe(0);
    const seen = JSON.parse(res.stdout.toString()) as {
      ran: string[];
      processes: string[];
      nestedGit: boolean;
      hooks: string[];
      config: string;
      tracked: string[];
    };
    expect(seen.ran).toEqual([]);
    expect(seen.processes).toEqual([]);
    expect(seen.hooks).toEqual([]);
    expect(seen.nestedGit).toBe(false);
    expect(seen.config).not.toMatch(/fsmonitor|filter|include|gpg|evil/i);
    // The tree itself arrives whole, only its git is gone.
    expect(seen.tracked).toEqual(['.gitattributes', 'README.md', 'data.bin', 'tools/evil.sh', 'tools/included.gitconfig', 'vendor/lib/index.js']);
    expect(res.stderr.toString()).toBe('');
  }, 120_000);
});
