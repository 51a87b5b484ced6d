/**
 * checkChangeSet: every path of a change set (new and old names) against the structural
 * checks, the default rules and the repository policy. It collects every violation, not
 * just the first, because a rejected run stores them all.
 */
import { FILE_MODE, type ChangeSet, type ChangeSetEntry } from './change-set.js';
import { isAllowed, matchRules, matchRulesExhaustively, type CompiledRules } from './compile.js';
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
  return check(changeSet, rules, false);
}

/**
 * The same check without its shortcuts: every rule tested against every path (no rule
 * index), every segment inspected, repeated paths found with a Set. The reference the
 * property tests hold checkChangeSet to; never used to deliver anything.
 */
export function checkChangeSetExhaustively(changeSet: ChangeSet, rules: CompiledRules): Verdict {
  return check(changeSet, rules, true);
}

function check(changeSet: ChangeSet, rules: CompiledRules, exhaustive: boolean): Verdict {
  const violations: Violation[] = [];
  const { limits } = rules;
  const repeated = exhaustive ? markRepeatedWithSet(changeSet.entries, new Uint8Array(changeSet.entries.length), 0) : markRepeatedPaths(changeSet.entries);
  let totalBytes = 0;

  for (let i = 0; i < changeSet.entries.length; i++) {
    const entry = changeSet.entries[i]!;
    const forbidden = checkEntryPaths(entry, rules, violations, exhaustive);
    checkEntryShape(entry, forbidden, violations);
    if (repeated[i] === 1) violations.push(violation(entry.path, R.duplicate));

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

/**
 * For each entry, 1 when an earlier entry has the same path. An open-addressing table of
 * entry numbers keyed by a seeded string hash: a Set of 100,000 paths cost as much as every
 * other check together (its table is reallocated as it grows and copied by the scavenges
 * the check's garbage triggers). The change set is hostile; should its paths ever make
 * the probes long (a crafted collision), the rest is checked with a Set instead.
 */
function markRepeatedPaths(entries: readonly ChangeSetEntry[]): Uint8Array {
  const n = entries.length;
  const repeated = new Uint8Array(n);
  let size = 16;
  while (size < 2 * n) size *= 2;
  const mask = size - 1;
  // Slot: the path's hash (never 0: 0 marks a free slot) and its entry number. Paths are
  // compared only when their hashes are equal, so a probe rarely touches another entry.
  const hashes = new Int32Array(size);
  const owners = new Int32Array(size);
  const seed = (Math.random() * 0x100000000) >>> 0;
  let probeBudget = 8 * n + 64;
  for (let i = 0; i < n; i++) {
    const path = entries[i]!.path;
    const hash = hashPath(path, seed) || 1;
    let slot = hash & mask;
    for (;;) {
      const h = hashes[slot]!;
      if (h === 0) {
        hashes[slot] = hash;
        owners[slot] = i;
        break;
      }
      if (h === hash && entries[owners[slot]!]!.path === path) {
        repeated[i] = 1;
        break;
      }
      if (--probeBudget < 0) return markRepeatedWithSet(entries, repeated, i);
      slot = (slot + 1) & mask;
    }
  }
  return repeated;
}

function markRepeatedWithSet(entries: readonly ChangeSetEntry[], repeated: Uint8Array, from: number): Uint8Array {
  const seen = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const path = entries[i]!.path;
    if (i >= from && seen.has(path)) repeated[i] = 1;
    seen.add(path);
  }
  return repeated;
}

/** FNV-1a from a random basis, then murmur3's finaliser so the low bits depend on every character. */
function hashPath(s: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Checks the new and the old name; returns whether either is forbidden by a rule or the allow list. */
function checkEntryPaths(entry: ChangeSetEntry, rules: CompiledRules, out: Violation[], exhaustive: boolean): boolean {
  let forbidden = checkPath(entry.path, rules, out, exhaustive);
  if (entry.oldPath !== undefined && entry.oldPath !== entry.path) {
    forbidden = checkPath(entry.oldPath, rules, out, exhaustive) || forbidden;
  }
  return forbidden;
}

// Scratch lists reused from path to path (the check is synchronous): most paths find
// nothing, and two fresh arrays per path were most of what a 100,000-path check allocated.
const scratchFindings: PathFinding[] = [];
const scratchHits: string[] = [];

function checkPath(path: string, rules: CompiledRules, out: Violation[], exhaustive: boolean): boolean {
  const findings = scratchFindings;
  // Setting length is a call into the runtime even when it changes nothing.
  if (findings.length !== 0) findings.length = 0;
  const lower = path.toLowerCase();
  const folded = inspectPath(path, rules.limits, findings, lower, exhaustive);
  for (const f of findings) out.push({ path, ruleId: f.ruleId, reason: f.reason });

  const hits = scratchHits;
  if (hits.length !== 0) hits.length = 0;
  if (exhaustive) matchRulesExhaustively(rules, path, hits);
  else matchRules(rules, path, hits, lower);
  // The raw spelling already matched case-insensitively; the folded one only adds
  // something when normalisation changed more than case.
  if (folded !== lower) {
    if (exhaustive) matchRulesExhaustively(rules, folded, hits);
    else matchRules(rules, folded, hits);
  }
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
  const { mode, oldMode } = entry;
  // Either side: turning a link into a file, or a file into a link, is refused alike.
  if (mode === FILE_MODE.symlink || oldMode === FILE_MODE.symlink) out.push(violation(entry.path, R.symlink));
  if (mode === FILE_MODE.submodule || oldMode === FILE_MODE.submodule) out.push(violation(entry.path, R.submodule));
  if (!KNOWN_MODES.has(mode) || (oldMode !== undefined && !KNOWN_MODES.has(oldMode))) out.push(violation(entry.path, R.unknownMode));

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
