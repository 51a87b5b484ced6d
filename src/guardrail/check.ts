/**
 * checkChangeSet: every path of a change set (new and old names) against the structural
 * checks, the default rules and the repository policy. It collects every violation, not
 * just the first, because a rejected run stores them all.
 */
import { FILE_MODE, type ChangeSet, type ChangeSetEntry } from './change-set.js';
import { isAllowed, matchRules, type CompiledRules } from './compile.js';
import { inspectPath, type PathFinding } from './path-shape.js';
import { CHANGE_SET_PATH, STRUCTURAL_RULES as R, type Verdict, type Violation } from './verdict.js';

const KNOWN_MODES: ReadonlySet<string> = new Set(Object.values(FILE_MODE));
const KNOWN_STATUSES: ReadonlySet<string> = new Set(['added', 'modified', 'deleted', 'renamed']);

const REASONS = {
  [R.symlink]: 'Symbolic links are never delivered: a link can point outside the file it claims to be.',
  [R.submodule]: 'Submodules are never delivered: a gitlink pulls in code nobody reviewed here.',
  [R.unknownMode]: 'The file mode is not one Git writes for a file (100644, 100755, 120000, 160000).',
  [R.execOnForbidden]: 'The executable bit changes on a forbidden path.',
  [R.invalidEntry]: 'The entry is malformed (unknown status, or a rename without its old path).',
  [R.fileTooLarge]: 'The file is larger than the per-file limit.',
  [R.sizeMismatch]: 'The declared size does not match the content.',
  [R.duplicate]: 'The path appears in more than one entry of the change set.',
  [R.tooManyFiles]: 'The change set has more files than the limit.',
  [R.totalTooLarge]: 'The change set is larger in total than the limit.',
  [R.totalMismatch]: 'The change set total does not match the sum of its entries.',
  [R.notAllowed]: 'The repository policy (.userz.yml) has an allow list and this path matches none of it.',
} as const;

export function checkChangeSet(changeSet: ChangeSet, rules: CompiledRules): Verdict {
  const violations: Violation[] = [];
  const { limits } = rules;
  const seenPaths = new Set<string>();
  let totalBytes = 0;

  for (const entry of changeSet.entries) {
    const forbidden = checkEntryPaths(entry, rules, violations);
    checkEntryShape(entry, forbidden, violations);
    if (seenPaths.has(entry.path)) violations.push(violation(entry.path, R.duplicate));
    seenPaths.add(entry.path);

    const bytes = entryBytes(entry);
    if (bytes === undefined) {
      violations.push(violation(entry.path, R.sizeMismatch));
    } else {
      totalBytes += bytes;
      if (bytes > limits.maxFileBytes) violations.push(violation(entry.path, R.fileTooLarge));
    }
  }

  if (changeSet.entries.length > limits.maxFiles) violations.push(violation(CHANGE_SET_PATH, R.tooManyFiles));
  if (totalBytes > limits.maxTotalBytes) violations.push(violation(CHANGE_SET_PATH, R.totalTooLarge));
  if (changeSet.totalBytes !== totalBytes) violations.push(violation(CHANGE_SET_PATH, R.totalMismatch));
  return { allowed: violations.length === 0, violations };
}

/** Checks the new and the old name; returns whether either is forbidden by a rule or the allow list. */
function checkEntryPaths(entry: ChangeSetEntry, rules: CompiledRules, out: Violation[]): boolean {
  let forbidden = checkPath(entry.path, rules, out);
  if (entry.oldPath !== undefined && entry.oldPath !== entry.path) {
    forbidden = checkPath(entry.oldPath, rules, out) || forbidden;
  }
  return forbidden;
}

function checkPath(path: string, rules: CompiledRules, out: Violation[]): boolean {
  const findings: PathFinding[] = [];
  const lower = path.toLowerCase();
  const folded = inspectPath(path, rules.limits, findings, lower);
  for (const f of findings) out.push({ path, ruleId: f.ruleId, reason: f.reason });

  const hits: string[] = [];
  matchRules(rules, path, hits, lower);
  // The raw spelling already matched case-insensitively; the folded one only adds
  // something when normalisation changed more than case.
  if (folded !== lower) matchRules(rules, folded, hits);
  if (hits.length > 0) {
    for (const rule of rules.rules) if (hits.includes(rule.id)) out.push({ path, ruleId: rule.id, reason: rule.reason });
  }

  const allowed = isAllowed(rules, path);
  if (!allowed) out.push(violation(path, R.notAllowed));
  return hits.length > 0 || !allowed;
}

function checkEntryShape(entry: ChangeSetEntry, forbidden: boolean, out: Violation[]): void {
  if (!KNOWN_STATUSES.has(entry.status) || (entry.status === 'renamed' && entry.oldPath === undefined)) {
    out.push(violation(entry.path, R.invalidEntry));
  }
  const modes = entry.oldMode === undefined ? [entry.mode] : [entry.mode, entry.oldMode];
  // Either side: turning a link into a file, or a file into a link, is refused alike.
  if (modes.includes(FILE_MODE.symlink)) out.push(violation(entry.path, R.symlink));
  if (modes.includes(FILE_MODE.submodule)) out.push(violation(entry.path, R.submodule));
  if (modes.some((m) => !KNOWN_MODES.has(m))) out.push(violation(entry.path, R.unknownMode));

  // An unknown previous mode counts as not executable, so a new or re-added script on
  // a forbidden path counts as a flip too.
  const execAfter = entry.mode === FILE_MODE.executable;
  const execBefore = entry.oldMode === FILE_MODE.executable;
  if (forbidden && entry.status !== 'deleted' && execAfter !== execBefore) out.push(violation(entry.path, R.execOnForbidden));
}

/** Bytes the entry delivers, or undefined when its size and content disagree. */
function entryBytes(entry: ChangeSetEntry): number | undefined {
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) return undefined;
  if (entry.content !== undefined && entry.content.length !== entry.size) return undefined;
  if (entry.status === 'deleted' && entry.size !== 0) return undefined;
  return entry.size;
}

function violation(path: string, ruleId: keyof typeof REASONS): Violation {
  return { path, ruleId, reason: REASONS[ruleId] };
}
