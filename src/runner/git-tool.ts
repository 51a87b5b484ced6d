import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { MAX_TOOL_OUTPUT_BYTES, truncateOutput } from './output-limit.js';
import { FORCED_GIT_CONFIG, gitBaseEnvironment, gitConfigEnvironment, gitDriverOverrides } from './git-config.js';
import { checkGitWord, checkGitWordOnDisk, wordKindBeforeDashDash, type GitWord } from './git-paths.js';
import type { Workspace } from './workspace-path.js';

/**
 * The agent's only process: git, with a subcommand allowlist and, per subcommand, an option
 * allowlist. The first argument must be an allowed subcommand, so global options (`-c`,
 * `-C`, `--git-dir`, `--work-tree`, `--exec-path`, `-p`) can never appear. Options after it
 * must match the subcommand's list; anything else starting with `-` is refused (this is
 * what stops `--ext-diff`, `--output=`, `--exec`, `--upload-pack=`, `-O<pager>`,
 * `--no-index`, `--textconv`, interactive `add -p`, `restore` without `--staged`). Every
 * other word may be read by git as a file name, so each is held to the workspace's path
 * rules (git-paths.ts): git does not confine them itself (`git diff -- /etc/passwd
 * /dev/null` turns into `--no-index`). What git's own config could run: git-config.ts.
 *
 * Allowed subcommands: status, diff, log, show, ls-files, grep, blame, rev-parse (read only);
 * add, rm, mv, restore --staged (index and worktree inside the workspace). Nothing that
 * talks to a remote, edits config, runs hooks or rewrites refs.
 */
type OptionRule = string | RegExp;

const COUNT = /^-(?:n)?\d+$/;
const CONTEXT = /^-[UAB]\d+$/;
const FORMAT_VALUE =
  /^--(?:format|pretty|date|author|committer|grep|since|until|after|before|diff-filter|skip|max-count|unified|abbrev|stat|word-diff|color|inter-hunk-context|context|max-depth|porcelain|untracked-files|find-renames|find-copies)=[^\n]*$/;
const UNTRACKED = /^-u(?:no|normal|all)?$/;
const PICKAXE = /^-[SG].+$/;
const LINE_RANGE = /^-L.+$/;

const DIFF_OPTIONS: OptionRule[] = [
  '--cached',
  '--staged',
  '--stat',
  '--numstat',
  '--shortstat',
  '--name-only',
  '--name-status',
  '--summary',
  '-p',
  '--patch',
  '-s',
  '--no-patch',
  '-w',
  '--ignore-all-space',
  '-b',
  '--ignore-space-change',
  '--no-color',
  '-R',
  '-M',
  '-z',
  '--word-diff',
  '--no-ext-diff',
  '--no-textconv',
  '--check',
  '--minimal',
  '--patience',
  '--histogram',
  '--find-renames',
  '--raw',
  '--full-index',
  '--binary',
  '--exit-code',
  '--quiet',
  CONTEXT,
  FORMAT_VALUE,
  PICKAXE,
];
const LOG_OPTIONS: OptionRule[] = [
  ...DIFF_OPTIONS,
  '--oneline',
  '--graph',
  '--decorate',
  '--no-decorate',
  '--follow',
  '--all',
  '--reverse',
  '--first-parent',
  '--no-merges',
  '--merges',
  '--abbrev-commit',
  '--name-only',
  '-i',
  '--regexp-ignore-case',
  '--topo-order',
  '--date-order',
  COUNT,
];

export const GIT_SUBCOMMANDS: Readonly<Record<string, OptionRule[]>> = {
  status: ['-s', '--short', '-b', '--branch', '-sb', '--porcelain', '--long', '--ignored', '-z', UNTRACKED, FORMAT_VALUE],
  diff: DIFF_OPTIONS,
  log: LOG_OPTIONS,
  show: LOG_OPTIONS,
  'ls-files': [
    '-c',
    '--cached',
    '-m',
    '--modified',
    '-o',
    '--others',
    '-d',
    '--deleted',
    '-s',
    '--stage',
    '--exclude-standard',
    '-z',
    '--full-name',
    '-t',
    '--error-unmatch',
    '-u',
    '--unmerged',
  ],
  grep: [
    '-n',
    '--line-number',
    '-i',
    '--ignore-case',
    '-w',
    '--word-regexp',
    '-v',
    '--invert-match',
    '-l',
    '--files-with-matches',
    '-L',
    '--files-without-match',
    '-c',
    '--count',
    '-E',
    '--extended-regexp',
    '-F',
    '--fixed-strings',
    '-G',
    '--basic-regexp',
    '-e',
    '-h',
    '-H',
    '--cached',
    '--untracked',
    '--all-match',
    '--and',
    '--or',
    '--not',
    '-q',
    '--quiet',
    '--heading',
    '--break',
    '-I',
    CONTEXT,
    FORMAT_VALUE,
  ],
  blame: ['-w', '-M', '-s', '-e', '--porcelain', '--line-porcelain', '-l', '-t', '--show-name', '--show-number', LINE_RANGE],
  'rev-parse': ['--abbrev-ref', '--short', '--verify', '--show-toplevel', '--is-inside-work-tree', '-q', '--quiet'],
  add: ['-A', '--all', '-u', '--update', '-N', '--intent-to-add', '-v', '--verbose', '--dry-run', '-n', '--ignore-removal'],
  rm: ['--cached', '-r', '-f', '--force', '-q', '--quiet', '--dry-run', '-n', '--ignore-unmatch'],
  mv: ['-f', '--force', '-k', '-n', '--dry-run', '-v', '--verbose'],
  restore: ['--staged', '-S', '-q', '--quiet', /^--source=[^\n]+$/],
};

export const GitArgs = z.object({ args: z.array(z.string().max(1000)).min(1).max(100) });

export function gitRefused(reason: string): UserzError {
  return new UserzError('tool_git_refused', `git refused: ${reason}`);
}

function optionAllowed(arg: string, rules: OptionRule[]): boolean {
  return rules.some((r) => (typeof r === 'string' ? r === arg : r.test(arg)));
}

/** The non-option words of a call, each with how git may read it (see git-paths.ts). */
export function gitWords(args: readonly string[]): GitWord[] {
  const [sub, ...rest] = args;
  const rules = GIT_SUBCOMMANDS[sub!]!;
  const dashDash = rest.indexOf('--');
  const before = dashDash === -1 ? rest : rest.slice(0, dashDash);
  // grep: without -e, the first word is the pattern; -e takes the next word as one.
  let patternPending = sub === 'grep' && !before.includes('-e');
  const words: GitWord[] = [];
  for (let i = 0; i < before.length; i += 1) {
    const arg = before[i]!;
    if (sub === 'grep' && arg === '-e') {
      i += 1;
      continue;
    }
    if (arg.startsWith('-') && optionAllowed(arg, rules)) continue;
    if (patternPending) {
      patternPending = false;
      continue;
    }
    words.push({ arg, kind: wordKindBeforeDashDash(sub!) });
  }
  if (dashDash !== -1) for (const arg of rest.slice(dashDash + 1)) words.push({ arg, kind: 'path' });
  return words;
}

/** Throws unless every argument is allowed; returns them unchanged. */
export function checkGitArgs(args: readonly string[]): string[] {
  const [sub, ...rest] = args;
  if (sub === undefined) throw gitRefused('no subcommand');
  const rules = Object.hasOwn(GIT_SUBCOMMANDS, sub) ? GIT_SUBCOMMANDS[sub] : undefined;
  if (!rules) throw gitRefused(`subcommand "${sub.slice(0, 40)}" is not allowed`);
  let pathspecs = false;
  let grepPattern = false;
  for (const arg of rest) {
    if (arg.includes('\0')) throw gitRefused('NUL in argument');
    if (pathspecs) continue;
    if (grepPattern) {
      grepPattern = false;
      continue;
    }
    if (arg === '--') {
      pathspecs = true;
      continue;
    }
    if (sub === 'grep' && arg === '-e') grepPattern = true;
    if (arg.startsWith('-') && !optionAllowed(arg, rules)) throw gitRefused(`option "${arg.slice(0, 60)}" is not allowed for ${sub}`);
  }
  if (sub === 'restore' && !rest.includes('--staged') && !rest.includes('-S')) throw gitRefused('restore needs --staged');
  for (const word of gitWords(args)) checkGitWord(word);
  return [...args];
}

export const GIT_TIMEOUT_MS = 20_000;

/**
 * A fresh environment (nothing inherited can point git at other config or programs), the
 * forced config of git-config.ts, and an explicit GIT_DIR and work tree, so that neither
 * repository discovery nor `core.worktree` can move git off the workspace.
 */
export function gitEnvironment(ws: Workspace, overrides: ReadonlyArray<readonly [string, string]> = []): NodeJS.ProcessEnv {
  return {
    ...gitBaseEnvironment(process.env.PATH ?? '/usr/bin:/bin'),
    GIT_DIR: join(ws.root, '.git'),
    GIT_WORK_TREE: ws.root,
    ...gitConfigEnvironment([...FORCED_GIT_CONFIG, ...overrides]),
  };
}

export interface GitResult {
  ok: boolean;
  output: string;
}

/** Flags forced per subcommand: diff drivers' commands and textconv come from config; never run them. */
const FORCED_FLAGS: Readonly<Record<string, string[]>> = {
  diff: ['--no-ext-diff', '--no-textconv'],
  log: ['--no-ext-diff', '--no-textconv'],
  show: ['--no-ext-diff', '--no-textconv'],
  blame: ['--no-textconv'],
  grep: ['--no-textconv'],
};

interface GitRun {
  error: (Error & { code?: string | number | null; killed?: boolean }) | null;
  stdout: string;
  stderr: string;
}

function execGit(ws: Workspace, argv: string[], env: NodeJS.ProcessEnv): Promise<GitRun> {
  return new Promise((resolve) => {
    execFile(
      'git',
      argv,
      { cwd: ws.root, env, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_TOOL_OUTPUT_BYTES * 4, encoding: 'utf8', shell: false },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }),
    );
  });
}

function toResult({ error, stdout, stderr }: GitRun): GitResult {
  const out = `${stdout}${stderr ? `${stdout ? '\n' : ''}${stderr}` : ''}`;
  if (!error) return { ok: true, output: truncateOutput(out) };
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return { ok: true, output: truncateOutput(`${stdout}\n[… output truncated]`) };
  if (error.killed) return { ok: false, output: truncateOutput(`${out}\n[git timed out after ${GIT_TIMEOUT_MS} ms]`) };
  return { ok: false, output: truncateOutput(out || `git exited with ${String(error.code ?? 'an error')}`) };
}

export async function runGit(ws: Workspace, args: readonly string[]): Promise<GitResult> {
  const checked = checkGitArgs(args);
  const [sub, ...rest] = checked;
  for (const word of gitWords(checked)) await checkGitWordOnDisk(ws, sub!, word);
  // Filter drivers are named by the config itself: list them, then empty each one.
  const names = await execGit(ws, ['config', '--list', '--name-only', '-z'], gitEnvironment(ws));
  if (names.error) return toResult(names);
  const env = gitEnvironment(ws, gitDriverOverrides(names.stdout));
  return toResult(await execGit(ws, ['--no-pager', sub!, ...(FORCED_FLAGS[sub!] ?? []), ...rest], env));
}
