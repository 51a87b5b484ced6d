/**
 * PR/MR and commit text from trusted fields only. The summary (the agent's own words) and
 * file paths may still carry words a reporter chose, so they are scrubbed of personal data
 * and secrets (src/security/scrub.ts) and rendered inert: no live @-mention (GitHub users
 * and teams, GitLab users, groups and @all), no image or link syntax, no HTML (so no
 * comments, `<details>` or `<img>`), no hidden characters, no GitLab quick action, bounded length.
 */
import type { ChangeSetEntry } from '../guardrail/index.js';
import { scrubText } from '../security/index.js';
import { branchForRun } from './branch.js';
import type { PrDescription } from './interface.js';

export const MAX_SUMMARY_CHARS = 2000;
export const MAX_TITLE_CHARS = 100;
export const MAX_LISTED_FILES = 50;
export const MAX_COMMIT_SUMMARY_CHARS = 1000;

/** C0/C1 controls (newline and tab kept apart), zero-width, bidi and other invisible format characters. */
// Variation selectors and joiners are listed alone on purpose: the class must match each by itself.
/* eslint-disable no-misleading-character-class */
const INVISIBLE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]|\udb40[\udc00-\udfff]/g;
/* eslint-enable no-misleading-character-class */
/** Every ASCII punctuation mark CommonMark lets us backslash-escape, minus the ones turned into entities. */
const MARKDOWN_PUNCTUATION = /[!"#$%'()*+,\-./:;=?[\\\]^_`{|}~]/g;

function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Markdown-inert text. `&`, `<`, `>` become entities (so no tag or comment can open); other
 * punctuation is backslash-escaped (no image, link, heading, list, table or quick action);
 * `@` is followed by a zero-width-space entity, which both GitHub and GitLab render as a
 * plain "@name" that links and notifies nobody.
 */
export function escapeMarkdownText(text: string): string {
  // Backslashes first: the entities added after must keep their own `#` and `;`.
  return stripInvisible(text)
    .replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, '@&#8203;');
}

/** One line of plain text: forge titles are not markdown but still show invisible tricks and mentions. */
export function renderPrTitle(title: string): string {
  return truncate(plainLine(title) || 'Userz change', MAX_TITLE_CHARS);
}

/** Scrubbed, one line, no invisible characters, `@` shown as a full-width sign that mentions nobody. */
function plainLine(text: string): string {
  return stripInvisible(scrubText(text)).replace(/\s+/g, ' ').trim().replace(/@/g, '\uff20');
}

/**
 * The run commit's message: the title, the summary as one plain paragraph (so it cannot
 * open a trailer block of its own), and the trailer block: `Userz-Run` (delivery finds its
 * commit by it) and, on a follow-up's commit, `Userz-Follow-Up` with its ordinal (a retried
 * follow-up finds the commit an earlier attempt pushed by it). The trailers carry ids only.
 */
export function renderCommitMessage(input: { runId: string; title: string; summary: string; followUp?: number }): string {
  branchForRun(input.runId);
  // Commit views linkify and some render markup: no image syntax, no tags.
  const line = plainLine(input.summary).replace(/!\[/g, '[').replace(/</g, '\u2039').replace(/>/g, '\u203a');
  const summary = truncate(line, MAX_COMMIT_SUMMARY_CHARS);
  const trailers = [`${RUN_TRAILER}: ${input.runId}`, ...(input.followUp === undefined ? [] : [`${FOLLOW_UP_TRAILER}: ${Math.trunc(input.followUp)}`])];
  return [renderPrTitle(input.title), ...(summary ? [summary] : []), trailers.join('\n')].join('\n\n');
}

const RUN_TRAILER = 'Userz-Run';
const FOLLOW_UP_TRAILER = 'Userz-Follow-Up';

/**
 * The Userz trailers of a commit message: only its last paragraph counts (title and
 * summary are single lines before it, so a summary that reads like a trailer is not one).
 */
export function commitTrailers(message: string): { runId: string | null; followUp: number | null } {
  const block =
    message
      .replace(/\r\n?/g, '\n')
      .trimEnd()
      .split(/\n{2,}/)
      .at(-1) ?? '';
  let runId: string | null = null;
  let followUp: number | null = null;
  for (const line of block.split('\n')) {
    const m = /^([A-Za-z-]+): (\S+)$/.exec(line.trim());
    if (m?.[1] === RUN_TRAILER) runId = m[2]!;
    if (m?.[1] === FOLLOW_UP_TRAILER && /^[1-9][0-9]{0,8}$/.test(m[2]!)) followUp = Number(m[2]);
  }
  return { runId, followUp };
}

/** The agent names the files it adds, so a name can carry what a report said: scrubbed like the summary. */
function describePath(entry: ChangeSetEntry): string {
  const shown = (p: string): string => escapeMarkdownText(truncate(scrubText(p), 200));
  const path = shown(entry.path);
  if (entry.status === 'renamed' && entry.oldPath) return `${shown(entry.oldPath)} → ${path}`;
  return path;
}

function safeLink(url: string | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null; // not a URL: the link is left out rather than rendered as text
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  // encodeURI leaves ( ) which would end the link target early.
  return parsed.href.replace(/[()<>\s"']/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The commands are the maintainer's, still shown inert (a code span could be closed by a backtick). */
function describeCommand(command: string): string {
  return escapeMarkdownText(truncate(plainLine(command), 200));
}

export const REPRODUCED_TEXT = 'A test that reproduces the report failed before this change and passes with it.';
export const UNPROVEN_TEXT = 'The fix is unproven: no test that reproduces the report failed before this change and passes with it.';

/** The checks section: status with each command's exit code, then the reproduction evidence. */
export function renderChecks(checks: NonNullable<PrDescription['checks']>): string[] {
  const exit = (c: { exitCode: number | null }) => (c.exitCode === null ? 'did not finish' : `exit ${Math.trunc(c.exitCode)}`);
  const lines: string[] = [];
  if (checks.status === 'not_configured') {
    lines.push('**Checks:** none configured (`check` in .userz.yml).');
  } else {
    const head = { passed: 'passed', failed: '**failing**', errored: '**could not run**' }[checks.status];
    lines.push(`**Checks:** ${head}.`, '');
    for (const c of checks.commands.slice(0, 20)) lines.push(`* ${describeCommand(c.command)}: ${exit(c)}`);
  }
  lines.push('', checks.reproduced ? REPRODUCED_TEXT : UNPROVEN_TEXT);
  return lines;
}

export function renderPrBody(input: { runId: string; description: PrDescription; entries: ChangeSetEntry[] }): string {
  const { description, entries, runId } = input;
  branchForRun(runId); // refuses run ids that could not sit verbatim in a code span
  // Scrubbed before truncation, so a secret cut in half is still recognised whole.
  const summary = escapeMarkdownText(truncate(scrubText(description.summary).trim(), MAX_SUMMARY_CHARS))
    .split('\n')
    .map((line) => line.trimEnd())
    .join('  \n');
  const listed = entries.slice(0, MAX_LISTED_FILES).map((e) => `* ${e.status}: ${describePath(e)}`);
  if (entries.length > MAX_LISTED_FILES) listed.push(`* and ${entries.length - MAX_LISTED_FILES} more`);
  const { checkedPaths, ruleCount } = description.guardrail;
  const link = safeLink(description.reportUrl);
  return [
    '### Summary',
    '',
    summary || '_No summary._',
    '',
    `### Files changed (${entries.length})`,
    '',
    ...listed,
    '',
    `**Guardrail:** passed, ${Math.trunc(checkedPaths)} paths checked against ${Math.trunc(ruleCount)} rules.`,
    '',
    ...(description.checks ? [...renderChecks(description.checks), ''] : []),
    link ? `[Open the report in Userz](${link})` : '',
    '',
    `Userz run \`${runId}\`. This is a draft: review it before merging.`,
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}
