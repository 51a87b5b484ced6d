/**
 * The repository's own policy, `.userz.yml` at the root of the target repository. It may
 * add forbidden globs and narrow the paths the agent may touch; it has no way to remove
 * or weaken a default. Anything it cannot express is refused rather than ignored: a
 * policy that silently does less than its author believes is worse than a failed run.
 *
 *   version: 1                  # optional
 *   forbid:                     # extra forbidden globs, same matching as the defaults
 *     - "secrets/**"
 *     - glob: "*.pem"
 *       reason: "Keys are issued by the platform team."
 *   allow:                      # optional: when present, every changed path must match one
 *     - "src/**"
 *     - "docs/**"
 *
 * The same file configures the run around the agent (issue 18). These keys are read at
 * the base commit only, never from the agent's tree, and are commands the maintainer wrote:
 *
 *   setup: [npm ci]             # run once in the sandbox before the agent starts
 *   check: [npm test]           # run by the host after the agent's edits, no network
 *   egress: { allow: [npm] }    # names from the operator's lists, during setup only
 *   instructions: AGENTS.md     # maintainer guidance for the agent (default AGENTS.md if present)
 *   require_passing_checks: false
 *   test_file_command: "node --test {file}"   # optional: runs one reproducing test file
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserzError, errorMessage } from '../errors.js';
import { findGlobProblem } from './glob-safety.js';

export const POLICY_PATH = '.userz.yml';
export const MAX_POLICY_BYTES = 64 * 1024;

const PolicyForbid = z.union([
  z.string().transform((glob) => ({ glob, reason: undefined as string | undefined })),
  z.strictObject({ glob: z.string(), reason: z.string().min(1).max(300).optional() }),
]);

// strictObject: unknown keys such as `remove`, `except` or `override` are refused.
// Globs are vetted after the shape (findGlobProblem), so the message names the problem.
const MAX_COMMANDS = 20;
const MAX_COMMAND_CHARS = 2000;
const Command = z.string().trim().min(1).max(MAX_COMMAND_CHARS);
/** A repository-relative file path in plain characters: no `..`, no leading `/` or `-`. */
const RepoFilePath = z
  .string()
  .max(200)
  .regex(/^(?!-)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/, 'must be a plain relative path');

export const Policy = z.strictObject({
  version: z.literal(1).optional(),
  forbid: z.array(PolicyForbid).max(200).default([]),
  allow: z.array(z.string()).max(200).optional(),
  setup: z.array(Command).max(MAX_COMMANDS).optional(),
  check: z.array(Command).max(MAX_COMMANDS).optional(),
  // Names only; the egress proxy resolves them against the operator's lists.
  egress: z.strictObject({ allow: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/)).max(20) }).optional(),
  instructions: RepoFilePath.optional(),
  require_passing_checks: z.boolean().optional(),
  test_file_command: Command.refine((c) => c.includes('{file}'), 'must contain {file}').optional(),
});
export type Policy = z.infer<typeof Policy>;

/** What the policy says about the run around the agent, with the defaults filled in. */
export interface RunConfig {
  setup: string[];
  check: string[];
  egressAllow: string[];
  /** The named file, or undefined: then AGENTS.md is used when the base tree has one. */
  instructions?: string;
  requirePassingChecks: boolean;
  testFileCommand?: string;
}

export const DEFAULT_INSTRUCTIONS_PATH = 'AGENTS.md';

export function runConfigOf(policy: Policy | undefined): RunConfig {
  return {
    setup: policy?.setup ?? [],
    check: policy?.check ?? [],
    egressAllow: policy?.egress?.allow ?? [],
    instructions: policy?.instructions,
    requirePassingChecks: policy?.require_passing_checks ?? false,
    testFileCommand: policy?.test_file_command,
  };
}

const invalid = (message: string, cause?: unknown): UserzError => new UserzError('policy_invalid', `${POLICY_PATH} is invalid: ${message}`, { cause });

/**
 * Parses `.userz.yml`. An empty file (or only comments) is an empty policy. Throws a
 * UserzError `policy_invalid` for anything else that does not fit, so the run fails
 * closed with a reason the repository owner can act on.
 */
export function parsePolicy(yamlText: string): Policy {
  if (Buffer.byteLength(yamlText, 'utf8') > MAX_POLICY_BYTES) throw invalid(`larger than ${MAX_POLICY_BYTES} bytes`);
  let data: unknown;
  try {
    // No aliases: they buy nothing here and are the classic YAML expansion bomb.
    data = parseYaml(yamlText, { maxAliasCount: 0, uniqueKeys: true });
  } catch (e) {
    throw invalid(`not valid YAML (${errorMessage(e).split('\n')[0]})`, e);
  }
  const parsed = Policy.safeParse(data ?? {});
  if (!parsed.success) throw invalid(z.prettifyError(parsed.error).replace(/\n+/g, '; '));
  const globs = [
    ...parsed.data.forbid.map((f, i) => [`forbid[${i}]`, f.glob] as const),
    ...(parsed.data.allow ?? []).map((g, i) => [`allow[${i}]`, g] as const),
  ];
  for (const [where, glob] of globs) {
    const problem = findGlobProblem(glob);
    if (problem !== undefined) throw invalid(`${where}: glob ${JSON.stringify(glob.slice(0, 80))} ${problem}`);
  }
  return parsed.data;
}
