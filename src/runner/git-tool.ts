import { execFile } from 'node:child_process';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { MAX_TOOL_OUTPUT_BYTES, truncateOutput } from './output-limit.js';
import { assertParentInside, type Workspace } from './workspace-path.js';

/**
 * The agent's only process: git, with a subcommand allowlist and, per subcommand, an option
 * allowlist. The first argument must be an allowed subcommand, so global options (`-c`,
 * `-C`, `--git-dir`, `--work-tree`, `--exec-path`, `-p`) can never appear. Options after it
 * must match the subcommand's list; anything else starting with `-` is refused (this is
 * what stops `--ext-diff`, `--output=`, `--exec`, `--upload-pack=`, `-O<pager>`,
 * `--no-index`, `--textconv`, interactive `add -p`, `restore` without `--staged`). After
 * `--` every argument is a pathspec, which git itself confines to the repository.
 *
 * Allowed subcommands: status, diff, log, show, ls-files, grep, blame, rev-parse (read only);
 * add, rm, mv, restore --staged (index and worktree inside the workspace). Nothing that
 * talks to a remote, edits config, runs hooks or rewrites refs.
 */
type OptionRule = string | RegExp;

const COUNT = /^-(?:n)?\d+$/;
const CONTEXT = /^-[UAB]\d+$/;
const FORMAT_VALUE = /^--(?:format|pretty|date|author|committer|grep|since|until|after|before|diff-filter|skip|max-count|unified|abbrev|stat|word-diff|color|inter-hunk-context|context|max-depth|porcelain|untracked-files|find-renames|find-copies)=[^\n]*$/;
const UNTRACKED = /^-u(?:no|normal|all)?$/;
const PICKAXE = /^-[SG].+$/;
const LINE_RANGE = /^-L.+$/;

const DIFF_OPTIONS: OptionRule[] = [
  '--cached', '--staged', '--stat', '--numstat', '--shortstat', '--name-only', '--name-status', '--summary',
  '-p', '--patch', '-s', '--no-patch', '-w', '--ignore-all-space', '-b', '--ignore-space-change', '--no-color',
  '-R', '-M', '-z', '--word-diff', '--no-ext-diff', '--no-textconv', '--check', '--minimal', '--patience',
  '--histogram', '--find-renames', '--raw', '--full-index', '--binary', '--exit-code', '--quiet',
  CONTEXT, FORMAT_VALUE, PICKAXE,
];
const LOG_OPTIONS: OptionRule[] = [
  ...DIFF_OPTIONS, '--oneline', '--graph', '--decorate', '--no-decorate', '--follow', '--all', '--reverse',
  '--first-parent', '--no-merges', '--merges', '--abbrev-commit', '--name-only', '-i', '--regexp-ignore-case',
  '--topo-order', '--date-order', COUNT,
];

export const GIT_SUBCOMMANDS: Readonly<Record<string, OptionRule[]>> = {
  status: ['-s', '--short', '-b', '--branch', '-sb', '--porcelain', '--long', '--ignored', '-z', UNTRACKED, FORMAT_VALUE],
  diff: DIFF_OPTIONS,
  log: LOG_OPTIONS,
  show: LOG_OPTIONS,
  'ls-files': [
    '-c', '--cached', '-m', '--modified', '-o', '--others', '-d', '--deleted', '-s', '--stage', '--exclude-standard',
    '-z', '--full-name', '-t', '--error-unmatch', '-u', '--unmerged',
  ],
  grep: [
    '-n', '--line-number', '-i', '--ignore-case', '-w', '--word-regexp', '-v', '--invert-match', '-l',
    '--files-with-matches', '-L', '--files-without-match', '-c', '--count', '-E', '--extended-regexp', '-F',
    '--fixed-strings', '-G', '--basic-regexp', '-e', '-h', '-H', '--cached', '--untracked', '--all-match',
    '--and', '--or', '--not', '-q', '--quiet', '--heading', '--break', '-I', CONTEXT, FORMAT_VALUE,
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
  return new UserzError('tool_git_refused', `git refused: ${reason}`, { status: 400 });
}

function optionAllowed(arg: string, rules: OptionRule[]): boolean {
  return rules.some((r) => (typeof r === 'string' ? r === arg : r.test(arg)));
}

/** Throws unless every argument is allowed; returns them unchanged. */
export function checkGitArgs(args: readonly string[]): string[] {
  const [sub, ...rest] = args;
  if (sub === undefined) throw gitRefused('no subcommand');
  const rules = Object.hasOwn(GIT_SUBCOMMANDS, sub) ? GIT_SUBCOMMANDS[sub] : undefined;
  if (!rules) throw gitRefused(`subcommand "${sub.slice(0, 40)}" is not allowed`);
  let pathspecs = false;
  for (const arg of rest) {
    if (arg.includes('\0')) throw gitRefused('NUL in argument');
    if (pathspecs) continue;
    if (arg === '--') {
      pathspecs = true;
      continue;
    }
    if (arg.startsWith('-') && !optionAllowed(arg, rules)) throw gitRefused(`option "${arg.slice(0, 60)}" is not allowed for ${sub}`);
  }
  if (sub === 'restore' && !rest.includes('--staged') && !rest.includes('-S')) throw gitRefused('restore needs --staged');
  return [...args];
}

/** Config forced on every call: nothing from the repository can make git run a program. */
const FORCED_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'core.editor=false',
  'core.sshCommand=false',
  'protocol.allow=never',
  'credential.helper=',
];

export const GIT_TIMEOUT_MS = 20_000;

export function gitEnvironment(): NodeJS.ProcessEnv {
  // A fresh environment: nothing inherited can point git at other config or programs.
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_OPTIONAL_LOCKS: '0',
  };
}

export interface GitResult {
  ok: boolean;
  output: string;
}

/** Subcommands that may print diffs: external diff drivers and textconv are switched off. */
const DIFFING = new Set(['diff', 'log', 'show']);
/** Subcommands that change the index or the worktree take plain paths, checked like the file tools'. */
const PATH_WRITING = new Set(['add', 'rm', 'mv', 'restore']);

async function checkPathArgs(ws: Workspace, args: readonly string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!PATH_WRITING.has(sub!)) return;
  for (const arg of rest) {
    if (arg === '--' || (arg.startsWith('-') && optionAllowed(arg, GIT_SUBCOMMANDS[sub!]!))) continue;
    // No pathspec magic (`:(top)`, `:!x`) on writes: a path means exactly that path.
    if (arg.startsWith(':')) throw gitRefused('pathspec magic is not allowed here');
    await assertParentInside(ws, arg);
  }
}

export async function runGit(ws: Workspace, args: readonly string[]): Promise<GitResult> {
  const checked = checkGitArgs(args);
  await checkPathArgs(ws, checked);
  const [sub, ...rest] = checked;
  // Diff drivers and textconv filters come from config; disable them even if config had some.
  const forced = DIFFING.has(sub!) ? ['--no-ext-diff', '--no-textconv'] : [];
  const argv = [...FORCED_CONFIG.flatMap((c) => ['-c', c]), '--no-pager', sub!, ...forced, ...rest];
  return new Promise((resolve) => {
    execFile(
      'git',
      argv,
      { cwd: ws.root, env: gitEnvironment(), timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_TOOL_OUTPUT_BYTES * 4, encoding: 'utf8', shell: false },
      (error, stdout, stderr) => {
        const out = `${stdout}${stderr ? `${stdout ? '\n' : ''}${stderr}` : ''}`;
        if (!error) return resolve({ ok: true, output: truncateOutput(out) });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ ok: true, output: truncateOutput(`${stdout}\n[… output truncated]`) });
        if (error.killed) return resolve({ ok: false, output: truncateOutput(`${out}\n[git timed out after ${GIT_TIMEOUT_MS} ms]`) });
        resolve({ ok: false, output: truncateOutput(out || `git exited with ${String(error.code ?? 'an error')}`) });
      },
    );
  });
}
