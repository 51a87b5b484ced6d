/**
 * What every git that Userz starts (the agent's git tool, the sandbox's repository load)
 * runs with, so that no config can make git start a program.
 *
 * Why this shape: git reads system, global and repository config, and config can name
 * programs (hooks, fsmonitor, pager, editors, ssh, credential helpers, gpg, filter, diff
 * and merge drivers). System and global config are switched off through the environment
 * (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null, HOME on an empty path). Repository
 * config cannot be switched off, so two layers handle it:
 *   1. the host never lets a repository bring its own `.git`: the load drops every `.git`
 *      from the incoming tree and creates a fresh one (src/sandbox/docker-sandbox.ts), and
 *      the agent's tools cannot write below `.git`;
 *   2. every call still overrides, with command-line scope (which beats every file), each
 *      key that runs a program; filter drivers have names of the repository's choosing, so
 *      they are read from the config first and emptied one by one (gitDriverOverrides).
 * Diff drivers' `command` and `textconv` are not emptied (git would then try to run an
 * empty command); diffing subcommands get `--no-ext-diff --no-textconv` instead.
 */

/** Keys with a fixed name that could run a program, set to values that run nothing. */
export const FORCED_GIT_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.pager', 'cat'],
  ['core.editor', 'false'],
  ['sequence.editor', 'false'],
  ['core.sshCommand', 'false'],
  ['core.askPass', 'false'],
  ['core.attributesFile', '/dev/null'],
  ['credential.helper', ''],
  ['protocol.allow', 'never'],
  ['diff.external', 'false'],
  ['diff.ignoreSubmodules', 'all'],
  ['submodule.recurse', 'false'],
  ['status.submoduleSummary', 'false'],
  ['log.showSignature', 'false'],
  ['commit.gpgSign', 'false'],
  ['tag.gpgSign', 'false'],
  ['gpg.program', 'false'],
  ['gpg.ssh.program', 'false'],
  ['gpg.x509.program', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
];

/** A path that does not exist: HOME, so that no ~/.gitconfig or XDG config is found. */
export const GIT_EMPTY_HOME = '/nonexistent';

/** Environment that ignores system and global config and inherits nothing of the caller's. */
export function gitBaseEnvironment(path: string): Record<string, string> {
  return {
    PATH: path,
    HOME: GIT_EMPTY_HOME,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_OPTIONAL_LOCKS: '0',
  };
}

/**
 * Config entries in git's environment form (GIT_CONFIG_COUNT / _KEY_n / _VALUE_n): the
 * same scope as `-c`, and keys and values are never parsed out of one string, so a
 * driver name holding `=` cannot smuggle a value.
 */
export function gitConfigEnvironment(entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

const FILTER_KEY = /^filter\.(.+)\.[^.]+$/s;

/**
 * Overrides that disable every filter driver the config defines, given the NUL-separated
 * output of `git config --list --name-only -z` (includes already followed by git).
 */
export function gitDriverOverrides(configNames: string): Array<[string, string]> {
  const filters = new Set<string>();
  for (const name of configNames.split('\0')) {
    const m = FILTER_KEY.exec(name);
    if (m) filters.add(m[1]!);
  }
  return [...filters].flatMap((f): Array<[string, string]> => [
    [`filter.${f}.clean`, ''],
    [`filter.${f}.smudge`, ''],
    [`filter.${f}.process`, ''],
    [`filter.${f}.required`, 'false'],
  ]);
}

/** For a POSIX shell script: `export` lines that give its git calls the same protection. */
export function gitShellExports(): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const env = { ...gitBaseEnvironment('/usr/local/bin:/usr/bin:/bin'), ...gitConfigEnvironment(FORCED_GIT_CONFIG) };
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${quote(v)}`)
    .join('\n');
}
