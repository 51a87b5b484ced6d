/**
 * What a run's draft PR/MR and its commit say: what changed and why in the agent's own
 * words (its final summary), a link to the report in the console, and nothing a reporter
 * wrote. The draft may be public, so report text stays in Userz: a run of words the summary
 * copies from a report is left out, and what remains is scrubbed of emails, phone and card
 * numbers and secrets (the forge's renderers scrub and neutralise it again).
 */
import type { PrDescription } from '../forge/index.js';
import { foldPath } from '../guardrail/index.js';
import { scrubText } from '../security/index.js';
import { listBatchReports } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import type { Run } from './runs.js';

/** Six words in a row shared with a report count as a quote, not as the agent's words. */
export const QUOTE_WORDS = 6;
export const QUOTE_MARKER = '[words from the report left out]';

export async function describeDraft(
  deps: Pick<PipelineDeps, 'db' | 'blobs' | 'publicUrl'>,
  run: Pick<Run, 'id' | 'batchId' | 'logBlob'>,
  guardrail: PrDescription['guardrail'],
): Promise<PrDescription> {
  const reports = await listBatchReports(deps.db, run.batchId);
  const summary = await agentSummaryOf(deps, run);
  return {
    title: `Fix reported problem (${run.id})`,
    summary: summaryForDraft(
      summary,
      reports.flatMap((r) => stringsIn(r.content)),
      reports.flatMap((r) => reporterValuesIn(r.content)),
    ),
    reportUrl: reports[0] ? reportUrl(deps.publicUrl, reports[0].id) : undefined,
    guardrail,
  };
}

/** The console page of one report, under the configured public URL. */
export function reportUrl(publicUrl: string, reportId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/reports/${encodeURIComponent(reportId)}`;
}

/** The agent's final summary, from the run's transcript (`runner_done`); empty when there is none. */
async function agentSummaryOf(deps: Pick<PipelineDeps, 'blobs'>, run: Pick<Run, 'logBlob'>): Promise<string> {
  if (!run.logBlob) return '';
  const log = await deps.blobs.get(run.logBlob);
  if (!log) return '';
  let summary = '';
  for (const line of log.toString('utf8').split('\n')) {
    if (!line.includes('"runner_done"')) continue;
    const entry = JSON.parse(line) as { kind?: unknown; summary?: unknown };
    if (entry.kind === 'runner_done' && typeof entry.summary === 'string') summary = entry.summary;
  }
  return summary;
}

/**
 * How much of the agent's summary is read. The PR body shows at most 2,000 characters of
 * it; the rest of the cap only lets the quote filter and the scrubber see a phrase or a
 * secret that straddles that line. Bounding the input bounds their work, whatever the agent wrote.
 */
export const MAX_SUMMARY_INPUT_CHARS = 8 * 1024;

/** The agent's summary without what it copied from the reports, scrubbed. */
export function summaryForDraft(summary: string, reportStrings: readonly string[], reporterValues: readonly string[] = []): string {
  return scrubText(leaveOutReportQuotes(summary.slice(0, MAX_SUMMARY_INPUT_CHARS), reportStrings, reporterValues));
}

/** A follow-up's commit summary: the agent's words without what it copied from the draft's reports, scrubbed. */
export async function followUpSummary(deps: Pick<PipelineDeps, 'db'>, run: Pick<Run, 'batchId'>, summary: string): Promise<string> {
  const reports = await listBatchReports(deps.db, run.batchId);
  return summaryForDraft(
    summary,
    reports.flatMap((r) => stringsIn(r.content)),
    reports.flatMap((r) => reporterValuesIn(r.content)),
  );
}

// Marks belong to their word (`J\u0301ane` is one word), and are dropped when words are compared.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/gu;

/**
 * Replaces every stretch of the summary that repeats QUOTE_WORDS or more consecutive words
 * of some report string, or the whole of a reporter field's value however short (a name,
 * a login, a user id), with QUOTE_MARKER. Words are compared folded: case (`ß` is `ss`),
 * width, accents, invisible characters and look-alike letters (Cyrillic `а`) ignored.
 */
export function leaveOutReportQuotes(summary: string, reportStrings: readonly string[], reporterValues: readonly string[] = []): string {
  const text = summary.normalize('NFKC').replace(INVISIBLE, '');
  // Phrases to leave out, by their length in words.
  const phrases = new Map<number, Set<string>>();
  const add = (words: readonly string[]): void => {
    const key = words.join(' ');
    const set = phrases.get(words.length) ?? new Set<string>();
    set.add(key);
    phrases.set(words.length, set);
  };
  for (const s of reportStrings) {
    const words = wordsOf(s);
    for (let i = 0; i + QUOTE_WORDS <= words.length; i++) add(words.slice(i, i + QUOTE_WORDS));
  }
  for (const value of reporterValues) {
    const words = wordsOf(value);
    if (words.length > 0 && words.length < QUOTE_WORDS) add(words);
  }
  if (phrases.size === 0) return text;

  const tokens = [...text.matchAll(WORD)].map((m) => ({ word: foldWord(m[0]), start: m.index, end: m.index + m[0].length }));
  const quoted = new Uint8Array(tokens.length);
  for (const [length, set] of phrases) {
    for (let i = 0; i + length <= tokens.length; i++) {
      const key = tokens
        .slice(i, i + length)
        .map((t) => t.word)
        .join(' ');
      if (set.has(key)) quoted.fill(1, i, i + length);
    }
  }

  let out = '';
  let from = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (!quoted[i]) continue;
    let j = i;
    while (j + 1 < tokens.length && quoted[j + 1]) j++;
    out += text.slice(from, tokens[i]!.start) + QUOTE_MARKER;
    from = tokens[j]!.end;
    i = j;
  }
  return out + text.slice(from);
}

function wordsOf(text: string): string[] {
  return (text.normalize('NFKC').replace(INVISIBLE, '').match(WORD) ?? []).map(foldWord);
}

/** A word has no `/`, `%`, dot or space, so the guardrail's path folding is exactly a word folding. */
function foldWord(word: string): string {
  return foldPath(word);
}

/** The reporter fields' values (strings and numbers) of a stored report's content. */
function reporterValuesIn(content: unknown): string[] {
  const reporter = (content as { reporter?: unknown } | null)?.reporter;
  if (reporter === null || typeof reporter !== 'object' || Array.isArray(reporter)) return [];
  return Object.values(reporter).flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : []));
}

/** Every string inside a stored report's content (text, console lines, page, reporter fields). */
function stringsIn(value: unknown, depth = 0): string[] {
  if (typeof value === 'string') return [value];
  if (depth > 8 || value === null || typeof value !== 'object') return [];
  const values = Array.isArray(value) ? value : Object.values(value);
  return values.flatMap((v) => stringsIn(v, depth + 1));
}
