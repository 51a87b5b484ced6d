/**
 * Structural checks of one path, and the folded spelling the rules are matched against.
 *
 * Canonical spelling is required, not produced: `./x`, `a//b`, `a/./b` and a trailing `/`
 * are rejected rather than normalised, so the string that was checked is byte for byte
 * the string delivery pushes. Git itself never writes such paths, so only a hand-made
 * (hostile) change set contains them.
 */
import type { ChangeSetLimits } from './limits.js';
import { STRUCTURAL_RULES as R } from './verdict.js';

export interface PathFinding {
  ruleId: string;
  reason: string;
}

export const STRUCTURAL_REASONS: Readonly<Record<string, string>> = Object.freeze({
  [R.nonCanonical]: 'The path is not in canonical form (empty, "./", "//", "/./" or a trailing "/").',
  [R.dotdot]: 'The path has a ".." segment (or a segment of only dots and spaces), which can leave the repository.',
  [R.absolute]: 'The path is absolute; change sets hold repository-relative paths only.',
  [R.backslash]: 'The path contains a backslash, which Windows clients read as a separator.',
  [R.controlChar]: 'The path contains a NUL, newline or other control character.',
  [R.invisibleChar]: 'The path contains an invisible or bidirectional-control character that hides its real name.',
  [R.invalidUnicode]: 'The path is not well-formed Unicode.',
  [R.tooLong]: 'The path or one of its segments is longer than the limit.',
  [R.gitComponent]: 'The path has a ".git" component (in some spelling); Git metadata is never changed.',
  [R.shortName]: 'A segment looks like a Windows 8.3 short name (such as ENV~1), which can alias another file on Windows clients.',
});

// Git's own guards (core.protectHFS, core.protectNTFS) treat these as ".git" too.
const GIT_COMPONENT = /^(?:\.git|git~\d+)$/;
// 8.3 short names: up to six characters, "~" and a number, an optional short extension.
// On NTFS, "GITHUB~1" or "ENV~1" can open ".github" or ".env"; no rule could see that.
const SHORT_NAME = /^[^.~]{1,6}~\d{1,6}(?:\.[^.]{1,3})?$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
const NON_PRINTABLE_ASCII = /[^\u0020-\u007e]/;
const MARKS_AND_IGNORABLES = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const WINDOWS_DRIVE = /^[a-zA-Z]:/;
const DOTS_AND_SPACES = /^[. ]+$/;
// NTFS ignores trailing dots and spaces, and ":stream" names an alternate data stream of
// the same file: ".env. " and ".env:x" are ".env" to a Windows client.
const NTFS_TAIL_PRESENT = /:|[. ](?:\/|$)/;

export function isWellFormedUnicode(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * The spelling a case-insensitive, normalising client might resolve the path to:
 * NFKC (fullwidth and compatibility forms), lower case after upper case (NTFS upper-cases
 * to compare, so `ı` is `i` and `ſ` is `s` there; `ß` becomes `ss`), combining marks and
 * ignorable characters dropped (`.ènv`, `.e\u200Dnv`), common look-alikes of Latin letters,
 * slashes, dots and hyphens mapped to them (`.gitl\u0430b-ci.yml`, `.github\u2215workflows`),
 * percent-escapes decoded (up to three times), NTFS tails dropped per segment. Used only
 * for matching; it may over-match odd names, which errs on the side of refusing.
 */
export function foldPath(path: string, lower = path.toLowerCase()): string {
  let s = NON_PRINTABLE_ASCII.test(lower) ? foldUnicode(path) : lower;
  for (let round = 0; round < 3 && s.includes('%'); round++) {
    const decoded = s.replace(PERCENT_RUN, decodePercentRun);
    if (decoded === s) break;
    s = NON_PRINTABLE_ASCII.test(decoded) ? foldUnicode(decoded) : decoded.toLowerCase();
  }
  // Nothing for the NTFS tail rule to strip: the common case, kept cheap.
  if (!NTFS_TAIL_PRESENT.test(s)) return s;
  return s
    .split('/')
    .map((seg) => (DOTS_AND_SPACES.test(seg) ? seg : stripNtfsTail(seg)))
    .join('/');
}

function foldUnicode(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKD')
    .replace(MARKS_AND_IGNORABLES, '')
    .normalize('NFKC')
    .replace(LOOK_ALIKE, (c) => LOOK_ALIKES.get(c) ?? c);
}

// A run of escapes, so multi-byte UTF-8 decodes whole; an escaped backslash is a separator.
const PERCENT_RUN = /(?:%[0-9a-fA-F]{2})+/g;
function decodePercentRun(run: string): string {
  try {
    return decodeURIComponent(run).replace(/\\/g, '/');
  } catch {
    return run; // not UTF-8: no client reads it as a name
  }
}

// Pairs of (look-alike, what a reader takes it for), after NFKC and lower-casing. Not all
// of Unicode's confusables: the scripts and symbols that spell Latin names convincingly.
const LOOK_ALIKE_PAIRS = [
  '\\/\u2215/\u2044/\u29f8/\u2571/\u2216/\u29f5/\u29f9/\u2572/',
  '\u3002.\u0701.\u0702.\ua4f8.',
  '\u2010-\u2011-\u2012-\u2013-\u2014-\u2015-\u2212-\u2043-\u02d7-',
  // Cyrillic
  '\u0430a\u0441c\u0501d\u0435e\u04bbh\u0456i\u0458j\u043ak\u04cfl\u043eo\u0440p\u051bq\u0455s\u0443y\u0445x\u051dw\u0475v',
  // Greek
  '\u03b1a\u03b5e\u03b9i\u03bak\u03bdv\u03bfo\u03c1p\u03c5u\u03c7x\u03f2c\u03f3j',
  // Armenian
  '\u0585o\u057du\u0570h',
  // Latin letters outside ASCII that read as ASCII ones, small capitals included
  '\u0251a\u0261g\u0262g\u0237j\u0269i\u026ai\u029fl\u0192f\u1d00a\u0299b\u1d04c\u1d05d\u1d07e\ua730f\u029ch\u1d0aj\u1d0bk\u1d0dm\u0274n\u1d0fo\u1d18p\u0280r\ua731s\u1d1bt\u1d1cu\u1d20v\u1d21w\u028fy\u1d22z',
].join('');
const LOOK_ALIKES: ReadonlyMap<string, string> = new Map(
  Array.from({ length: LOOK_ALIKE_PAIRS.length / 2 }, (_, i) => [LOOK_ALIKE_PAIRS[2 * i]!, LOOK_ALIKE_PAIRS[2 * i + 1]!] as const),
);
const LOOK_ALIKE = new RegExp(`[${[...LOOK_ALIKES.keys()].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]`, 'g');

function stripNtfsTail(segment: string): string {
  const colon = segment.indexOf(':');
  let end = colon === -1 ? segment.length : colon;
  while (end > 0 && (segment[end - 1] === '.' || segment[end - 1] === ' ')) end -= 1;
  return segment.slice(0, end);
}

/**
 * Appends the structural findings for one path to `out` (at most one per rule id) and
 * returns its folded spelling.
 */
export function inspectPath(path: string, limits: ChangeSetLimits, out: PathFinding[], lower = path.toLowerCase(), everySegment = false): string {
  const first = out.length;
  if (path.length === 0) addFinding(out, first, R.nonCanonical);
  if (path.charCodeAt(0) === 0x2f || WINDOWS_DRIVE.test(path)) addFinding(out, first, R.absolute);
  if (path.includes('\\')) addFinding(out, first, R.backslash);
  if (NON_PRINTABLE_ASCII.test(path)) {
    if (CONTROL.test(path)) addFinding(out, first, R.controlChar);
    if (INVISIBLE.test(path)) addFinding(out, first, R.invisibleChar);
    if (!isWellFormedUnicode(path)) addFinding(out, first, R.invalidUnicode);
  }
  if (path.length * 3 > limits.maxPathBytes && Buffer.byteLength(path, 'utf8') > limits.maxPathBytes) {
    addFinding(out, first, R.tooLong);
  }
  inspectSegments(path, false, limits, out, first, everySegment);
  const folded = foldPath(path, lower);
  if (folded !== lower) inspectSegments(folded, true, limits, out, first, everySegment);
  return folded;
}

function inspectShortSegment(lowerSegment: string, out: PathFinding[], first: number): void {
  if (GIT_COMPONENT.test(lowerSegment)) addFinding(out, first, R.gitComponent);
  if (lowerSegment.includes('~') && SHORT_NAME.test(lowerSegment)) addFinding(out, first, R.shortName);
}

/** At most one finding per rule id for one path. */
function addFinding(out: PathFinding[], first: number, ruleId: string): void {
  for (let i = first; i < out.length; i++) if (out[i]!.ruleId === ruleId) return;
  out.push({ ruleId, reason: STRUCTURAL_REASONS[ruleId]! });
}

/**
 * Segments are read in place: a segment is sliced out only when a check needs its text,
 * which for most segments none does (a change set can hold 100,000 paths). everySegment
 * gives every short segment to the Git-name checks (the reference the tests compare to).
 */
function inspectSegments(path: string, folded: boolean, limits: ChangeSetLimits, out: PathFinding[], first: number, everySegment: boolean): void {
  let from = 0;
  for (let i = 0; from <= path.length; i++) {
    let to = path.indexOf('/', from);
    if (to === -1) to = path.length;
    const start = from;
    const length = to - from;
    from = to + 1;
    if (length === 0) {
      // A leading empty segment is the absolute-path finding already.
      if (i > 0 || path.length === 0) addFinding(out, first, R.nonCanonical);
      continue;
    }
    const c0 = path.charCodeAt(start);
    if (length === 1 && c0 === 0x2e) addFinding(out, first, R.nonCanonical);
    else if (c0 <= 0x2e && onlyDotsAndSpaces(path, start, to)) addFinding(out, first, R.dotdot);
    // Only ".git" (4 characters: no other character lower-cases to one of its letters) and
    // names with a "~" can be a Git component or a short name.
    if (length <= 16 && (everySegment || length === 4 || hasTilde(path, start, to))) {
      const seg = path.slice(start, to);
      inspectShortSegment(folded ? seg : seg.toLowerCase(), out, first);
    }
    // Length is a property of the real name; NFKC may lengthen the folded one.
    if (!folded && length * 3 > limits.maxSegmentBytes && Buffer.byteLength(path.slice(start, to), 'utf8') > limits.maxSegmentBytes) {
      addFinding(out, first, R.tooLong);
    }
  }
}

function onlyDotsAndSpaces(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2e && c !== 0x20) return false;
  }
  return true;
}

function hasTilde(s: string, from: number, to: number): boolean {
  const at = s.indexOf('~', from);
  return at !== -1 && at < to;
}
