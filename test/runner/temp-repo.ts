import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway git repository with one commit, like the workspace a sandbox starts from. */
export interface TempRepo {
  root: string;
  /** A directory next to the repository, outside it (targets for escape attempts). */
  outside: string;
  git(...args: string[]): string;
  remove(): void;
}

export function createTempRepo(files: Record<string, string> = { 'README.md': '# demo\n', 'src/app.js': 'export const x = 1;\n' }): TempRepo {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'userz-runner-')));
  const root = join(base, 'repo');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'outside secret\n');
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: base, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  git('init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'base');
  return { root, outside, git, remove: () => rmSync(base, { recursive: true, force: true }) };
}
