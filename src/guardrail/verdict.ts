/**
 * What the guardrail answers. A rejected run stores every violation (ADR: the pipeline
 * ends the run as `pr_failed` listing each offending file and rule), so the check never
 * stops at the first hit.
 */
export interface Violation {
  /**
   * The offending path exactly as it appeared in the change set (new or old name), so it
   * may hold control characters: escape it before display. Violations about the change
   * set as a whole (too many files, too many bytes) carry `CHANGE_SET_PATH`.
   */
  path: string;
  /** Stable id: a structural check below, a default rule id from rules/guardrail.yml, or `policy.…`. */
  ruleId: string;
  /** One sentence for the maintainer; never contains file content. */
  reason: string;
}

export interface Verdict {
  allowed: boolean;
  violations: Violation[];
}

/** Path of violations that concern the whole change set; no real path is empty. */
export const CHANGE_SET_PATH = '';

/** Ids of the built-in checks. Stored with rejected runs, so never rename one. */
export const STRUCTURAL_RULES = {
  nonCanonical: 'path.non_canonical',
  dotdot: 'path.dotdot',
  absolute: 'path.absolute',
  backslash: 'path.backslash',
  controlChar: 'path.control_char',
  invisibleChar: 'path.invisible_char',
  invalidUnicode: 'path.invalid_unicode',
  tooLong: 'path.too_long',
  gitComponent: 'path.git_component',
  shortName: 'path.short_name',
  duplicate: 'path.duplicate',
  symlink: 'mode.symlink',
  submodule: 'mode.submodule',
  unknownMode: 'mode.unknown',
  execOnForbidden: 'mode.exec_on_forbidden',
  invalidEntry: 'entry.invalid',
  fileTooLarge: 'size.file_too_large',
  sizeMismatch: 'size.mismatch',
  tooManyFiles: 'size.too_many_files',
  totalTooLarge: 'size.total_too_large',
  totalMismatch: 'size.total_mismatch',
  notAllowed: 'policy.not_allowed',
} as const;

/** Rule ids whose violations carry CHANGE_SET_PATH: they concern the change set as a whole. */
export const CHANGE_SET_RULES: ReadonlySet<string> = new Set([STRUCTURAL_RULES.tooManyFiles, STRUCTURAL_RULES.totalTooLarge, STRUCTURAL_RULES.totalMismatch]);

/** Rule ids that rules/guardrail.yml and a repository policy may not claim. */
export const RESERVED_RULE_ID_PREFIXES = ['path.', 'mode.', 'entry.', 'size.', 'policy.'] as const;
