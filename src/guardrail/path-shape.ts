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
 * NFKC (fullwidth and compatibility forms), lower case, combining marks and ignorable
 * characters dropped (`.ènv`, `.e\u200Dnv`), NTFS tails dropped per segment. Used only for
 * matching; it may over-match odd names, which errs on the side of refusing.
 */
export function foldPath(path: string, lower = path.toLowerCase()): string {
  let s = lower;
  if (NON_PRINTABLE_ASCII.test(s)) {
    s = path
      .normalize('NFKC')
      .toLowerCase()
      .normalize('NFKD')
      .replace(MARKS_AND_IGNORABLES, '')
      .normalize('NFKC');
  }
  // Nothing for the NTFS tail rule to strip: the common case, kept cheap.
  if (!NTFS_TAIL_PRESENT.test(s)) return s;
  return s
    .split('/')
    .map((seg) => (DOTS_AND_SPACES.test(seg) ? seg : stripNtfsTail(seg)))
    .join('/');
}

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
export function inspectPath(path: string, limits: ChangeSetLimits, out: PathFinding[], lower = path.toLowerCase()): string {
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
  inspectSegments(path, false, limits, out, first);
  const folded = foldPath(path, lower);
  if (folded !== lower) inspectSegments(folded, true, limits, out, first);
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

function inspectSegments(path: string, folded: boolean, limits: ChangeSetLimits, out: PathFinding[], first: number): void {
  let from = 0;
  for (let i = 0; from <= path.length; i++) {
    let to = path.indexOf('/', from);
    if (to === -1) to = path.length;
    const seg = path.slice(from, to);
    from = to + 1;
    if (seg === '') {
      // A leading empty segment is the absolute-path finding already.
      if (i > 0 || path.length === 0) addFinding(out, first, R.nonCanonical);
      continue;
    }
    if (seg === '.') addFinding(out, first, R.nonCanonical);
    else if (seg.charCodeAt(0) <= 0x2e && DOTS_AND_SPACES.test(seg)) addFinding(out, first, R.dotdot);
    if (seg.length <= 16) inspectShortSegment(folded ? seg : seg.toLowerCase(), out, first);
    // Length is a property of the real name; NFKC may lengthen the folded one.
    if (!folded && seg.length * 3 > limits.maxSegmentBytes && Buffer.byteLength(seg, 'utf8') > limits.maxSegmentBytes) {
      addFinding(out, first, R.tooLong);
    }
  }
}
