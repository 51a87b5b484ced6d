import { UserzError } from '../errors.js';
import { assertParentInside, assertResolvesInside, splitWorkspacePath, type Workspace } from './workspace-path.js';

/**
 * The words of a git call that git may read as file names, and what each must satisfy.
 *
 * Why every non-option word: after `--` git takes words as pathspecs; before it, a word
 * that names an existing file is one too; and `git diff A B` where either word lies
 * outside the work tree quietly becomes `git diff --no-index A B`, which reads any file
 * (`git diff -- /etc/passwd /dev/null` printed it). So each such word is held to the file
 * tools' rules (workspace-path.ts): relative, no `..`, no `.git`, no control characters
 * or backslashes, and where it exists on disk its real path is inside the workspace.
 * Words before `--` may be revisions instead (`HEAD~2`, `main..topic`, `HEAD:src/a.ts`);
 * those rules never refuse a revision, and the path after `rev:` is held to them too.
 * A leading `:` is refused everywhere: it starts pathspec magic (`:(top)`, `:/`, `:!x`,
 * `:(glob)`), the one syntax that changes what a path means, and index paths (`:x`),
 * for which `--cached` exists.
 */
export type GitWordKind = 'path' | 'revision-or-path';

export interface GitWord {
  arg: string;
  kind: GitWordKind;
}

/** Subcommands whose words are only ever paths (never revisions). */
const PATH_ONLY = new Set(['status', 'ls-files', 'add', 'rm', 'mv', 'restore']);
/** Subcommands that change the index or the worktree: a path's last component may be a symlink git records without following. */
export const PATH_WRITING = new Set(['add', 'rm', 'mv', 'restore']);

function magicRefused(): UserzError {
  return new UserzError('tool_git_refused', 'git refused: pathspec magic and index paths (a leading ":") are not allowed');
}

/** Lexical rules; throws tool_git_refused (magic) or tool_path_refused. */
export function checkGitWord(word: GitWord): void {
  const { arg } = word;
  if (arg.startsWith(':')) throw magicRefused();
  const colon = arg.indexOf(':');
  if (word.kind === 'revision-or-path' && colon > 0) {
    // `rev:path` names a blob of the repository; its path must still read as a workspace path.
    const path = arg.slice(colon + 1);
    if (path.length > 0) splitWorkspacePath(path);
    splitWorkspacePath(arg.slice(0, colon));
    return;
  }
  splitWorkspacePath(arg);
}

/** Rules that need the disk: the word, if it exists, resolves inside the workspace. */
export async function checkGitWordOnDisk(ws: Workspace, sub: string, word: GitWord): Promise<void> {
  if (PATH_WRITING.has(sub)) await assertParentInside(ws, word.arg);
  else await assertResolvesInside(ws, word.arg);
}

/** How a subcommand's non-option word before `--` is read. */
export function wordKindBeforeDashDash(sub: string): GitWordKind {
  return PATH_ONLY.has(sub) ? 'path' : 'revision-or-path';
}
