/**
 * Reproduce first (issue 18). When the repository has checks, the agent is asked to add a
 * test that reproduces the report before it fixes anything, and to name that test file
 * with the declare_reproducing_test tool. The host then decides, by itself, whether the
 * test is evidence:
 *
 * - The declared path must be a plain relative path that the change set adds or modifies
 *   and that looks like a test (a `test`, `tests`, `spec` or `__tests__` folder, or a name
 *   like `x.test.js`, `x.spec.ts`, `test_x.py`, `x_test.go`). Nothing else is run.
 * - What runs is the maintainer's: `.userz.yml` `test_file_command` with `{file}` replaced
 *   by the shell-quoted path (e.g. `node --test {file}`), or, without one, the `check`
 *   commands themselves. The agent chooses no command.
 * - "after": on the changed tree. "before": on the base tree with only the test file of the
 *   change kept (every other path of the change set restored from the loaded commit).
 * - reproduced only when "before" fails (a command exits non-zero) and "after" passes.
 */
import type { ChangeSet } from '../guardrail/index.js';
import { gitShellExports } from '../runner/index.js';
import type { Sandbox } from '../sandbox/index.js';
import type { CommandResult, Reproduction } from '../store/index.js';
import { runCommands, type CommandsOutcome } from './checks.js';

const PLAIN_PATH = /^(?!-)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*$/;
const TEST_FOLDER = /(?:^|\/)(?:test|tests|spec|specs|__tests__)\//;
const TEST_NAME = /(?:^|\/)(?:[^/]+[._-](?:test|spec)\.[A-Za-z0-9]+|test_[^/]+\.[A-Za-z0-9]+)$/;

export function looksLikeTestPath(path: string): boolean {
  return path.length <= 200 && PLAIN_PATH.test(path) && (TEST_FOLDER.test(path) || TEST_NAME.test(path));
}

/** Why a declared path cannot be the reproducing test, or undefined when it can. */
export function refuseTestPath(path: string, changeSet: ChangeSet): string | undefined {
  if (!looksLikeTestPath(path)) return 'the path is not a test file (a test/, tests/, spec/ or __tests__/ folder, or a name such as x.test.js)';
  const entry = changeSet.entries.find((e) => e.path === path);
  if (!entry || (entry.status !== 'added' && entry.status !== 'modified')) return 'the change does not add or modify this file';
  return undefined;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The commands that exercise the test: the maintainer's template, else the checks. */
export function reproductionCommands(testPath: string, cfg: { check: readonly string[]; testFileCommand?: string }): string[] {
  return cfg.testFileCommand ? [cfg.testFileCommand.split('{file}').join(quote(testPath))] : [...cfg.check];
}

// Restores paths from the loaded commit (git with the runner's forced configuration, so no
// hook, filter or config of the tree runs), then removes the paths the change added.
const RESTORE_SHELL = [
  'set -e',
  gitShellExports(),
  'export GIT_DIR=/work/.git GIT_WORK_TREE=/work GIT_LITERAL_PATHSPECS=1',
  'cd /work',
  'restore=$1; shift',
  'i=0',
  'for p in "$@"; do',
  '  i=$((i + 1))',
  '  if [ "$i" -le "$restore" ]; then git checkout -q HEAD -- "$p"; else rm -f -- "$p"; fi',
  'done',
].join('\n');

/** The change set undone in the sandbox, except `keep`: the base tree plus the test file. */
async function restoreBaseExcept(sandbox: Sandbox, changeSet: ChangeSet, keep: string): Promise<boolean> {
  const restore: string[] = [];
  const remove: string[] = [];
  for (const e of changeSet.entries) {
    if (e.path === keep) continue;
    if (e.status === 'added') remove.push(e.path);
    else if (e.status === 'renamed') {
      remove.push(e.path);
      if (e.oldPath) restore.push(e.oldPath);
    } else restore.push(e.path);
  }
  if (restore.length + remove.length === 0) return true;
  const res = await sandbox.exec(['sh', '-c', RESTORE_SHELL, 'sh', String(restore.length), ...restore, ...remove], {
    timeoutMs: 120_000,
    maxOutputBytes: 1024 * 1024,
  });
  return res.exitCode === 0;
}

const passed = (o: CommandsOutcome): boolean => o.status === 'passed';
const failedOnly = (o: CommandsOutcome): boolean => o.status === 'failed';

/**
 * Runs the reproducing test after and before the change. Call it last: it leaves the
 * sandbox's tree at the base (plus the test). `finalChecks` is the check run on the
 * changed tree, reused as "after" when there is no test_file_command.
 */
export async function reproduce(
  sandbox: Sandbox,
  changeSet: ChangeSet,
  testPath: string,
  cfg: { check: readonly string[]; testFileCommand?: string },
  finalChecks: CommandsOutcome,
): Promise<{ reproduced: boolean; reproduction: Reproduction }> {
  const refused = refuseTestPath(testPath, changeSet);
  const result = (reproduced: boolean, before: CommandResult[], after: CommandResult[], note?: string) => ({
    reproduced,
    reproduction: { testPath, before, after, ...(note ? { note } : {}) },
  });
  if (refused) return result(false, [], [], refused);
  const commands = reproductionCommands(testPath, cfg);
  const after = cfg.testFileCommand ? await runCommands(sandbox, commands) : finalChecks;
  if (!passed(after)) return result(false, [], after.commands, 'the test does not pass with the change');
  if (!(await restoreBaseExcept(sandbox, changeSet, testPath))) return result(false, [], after.commands, 'the base tree could not be restored');
  const before = await runCommands(sandbox, commands);
  if (!failedOnly(before)) return result(false, before.commands, after.commands, 'the test does not fail without the change');
  return result(true, before.commands, after.commands);
}
