import { createHash } from 'node:crypto';
import { normalizeForMatching } from './normalize.js';
import { prefilterReport } from './prefilter.js';
import type { ReportContent } from './report-content.js';
import { removeTagNameVariants } from './wrap.js';

/**
 * Batching: reports about the same problem in the same App share one run. Pure logic; the
 * pipeline stores batches and calls these functions.
 *
 * A report with an error is keyed by its normalised top error and first stack frame; one
 * without is compared by a MinHash signature of its word shingles (estimated Jaccard).
 */
export type Fingerprint = { kind: 'error'; key: string; signature: string } | { kind: 'text'; key: string; minhash: number[] };

export const MINHASH_SIZE = 64;
const SHINGLE_WORDS = 2;
const MAX_SIGNATURE_CHARS = 300;
const MAX_FINGERPRINT_INPUT = 20_000;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

const ERROR_IN_TEXT = /\b(?:uncaught )?[a-z]*(?:error|exception)\b:? [^\n]{1,200}/iu;
const STACK_FRAME = /^[ \t]{0,40}(?:at [^\n]{1,300}|[^\s@]{0,100}@[^\s]{1,300})$/mu;

function topErrorMessage(content: ReportContent): string | null {
  const errorLine = content.console?.find((line) => line.level === 'error');
  if (errorLine) return errorLine.message.slice(0, MAX_FINGERPRINT_INPUT);
  const inText = ERROR_IN_TEXT.exec(content.text.slice(0, MAX_FINGERPRINT_INPUT));
  return inText ? inText[0] : null;
}

/** Strips what differs between occurrences of one error: positions, ids, numbers, query strings. */
export function normalizeErrorLine(line: string): string {
  return normalizeForMatching(line)
    .replace(/\?[^\s)]*/gu, '')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gu, '<uuid>')
    .replace(/\b0x[0-9a-f]+\b/gu, '<hex>')
    .replace(/\b(?=[a-z]{0,63}\d)[0-9a-f]{6,64}\b/gu, '<hex>')
    .replace(/(?::\d+){1,2}\b/gu, '')
    .replace(/\d+/gu, '#')
    .trim();
}

function errorSignature(message: string): string {
  const [first = ''] = message.split('\n', 1);
  const frame = STACK_FRAME.exec(message.slice(first.length));
  const parts = [normalizeErrorLine(first)];
  if (frame) parts.push(normalizeErrorLine(frame[0]));
  return parts.join(' | ').slice(0, MAX_SIGNATURE_CHARS);
}

function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Final avalanche so seeds that differ in a few bits give unrelated orders.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  return hash >>> 0;
}

function shingles(text: string): Set<string> {
  const words = normalizeForMatching(text.slice(0, MAX_FINGERPRINT_INPUT))
    .replace(/\d+/gu, '#')
    .split(/[^\p{L}\p{N}#]+/u)
    .filter(Boolean);
  const out = new Set<string>();
  if (words.length < SHINGLE_WORDS) {
    for (const w of words) out.add(w);
    return out;
  }
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i += 1) out.add(words.slice(i, i + SHINGLE_WORDS).join(' '));
  return out;
}

function minhash(set: Set<string>): number[] {
  const mins = new Array<number>(MINHASH_SIZE).fill(0xffffffff);
  for (const shingle of set) {
    for (let k = 0; k < MINHASH_SIZE; k += 1) {
      const h = fnv1a(shingle, Math.imul(k + 1, 0x9e3779b1));
      if (h < mins[k]!) mins[k] = h;
    }
  }
  return mins;
}

export function fingerprint(content: ReportContent): Fingerprint {
  const error = topErrorMessage(content);
  if (error !== null) {
    const signature = errorSignature(error);
    return { kind: 'error', key: sha256(`error\n${signature}`), signature };
  }
  const mins = minhash(shingles(content.text));
  return { kind: 'text', key: sha256(`text\n${mins.join(',')}`), minhash: mins };
}

/** 1 for the same error; for texts, the MinHash estimate of Jaccard similarity; 0 across kinds. */
export function similarity(a: Fingerprint, b: Fingerprint): number {
  if (a.kind === 'error' && b.kind === 'error') return a.key === b.key ? 1 : 0;
  if (a.kind === 'text' && b.kind === 'text') {
    let same = 0;
    for (let k = 0; k < MINHASH_SIZE; k += 1) if (a.minhash[k] === b.minhash[k]) same += 1;
    return same / MINHASH_SIZE;
  }
  return 0;
}

export interface OpenBatch {
  id: string;
  appId: string;
  fingerprint: Fingerprint;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface BatchCandidate {
  appId: string;
  fingerprint: Fingerprint;
  receivedAt: Date;
}

export interface FindBatchOptions {
  /** A batch takes reports for this long after its first one. */
  windowMs?: number;
  /** Minimum estimated Jaccard similarity for text fingerprints. */
  minSimilarity?: number;
}

export const DEFAULT_BATCH_WINDOW_MS = 6 * 60 * 60 * 1000;
export const DEFAULT_MIN_SIMILARITY = 0.5;

/** The open batch of the same App, inside its window (either side), most similar to the candidate; null to start a new one. */
export function findBatch(candidate: BatchCandidate, openBatches: readonly OpenBatch[], opts: FindBatchOptions = {}): OpenBatch | null {
  const windowMs = opts.windowMs ?? DEFAULT_BATCH_WINDOW_MS;
  const minSimilarity = opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY;
  const at = candidate.receivedAt.getTime();
  let best: { batch: OpenBatch; score: number } | null = null;
  for (const batch of openBatches) {
    if (batch.appId !== candidate.appId) continue;
    // The batch's span of received times, with the candidate, stays inside the window: a
    // report older than the batch's first member may join it (triage runs many reports at
    // once and retries come back late; see pipeline/triage-group.ts), as long as it is not
    // more than the window before the batch's latest member.
    const first = batch.firstSeenAt.getTime();
    if (at - first > windowMs || batch.lastSeenAt.getTime() - at > windowMs) continue;
    const score = similarity(candidate.fingerprint, batch.fingerprint);
    if (score < minSimilarity) continue;
    if (!best || score > best.score || (score === best.score && batch.lastSeenAt > best.batch.lastSeenAt)) best = { batch, score };
  }
  return best?.batch ?? null;
}

export interface BatchMember {
  content: ReportContent;
  receivedAt: Date;
}

export interface BatchSummary {
  count: number;
  /** Normalised, sanitised top error shared by most members; null when none has one. */
  topError: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  /** A bounded, sanitised excerpt of the first report; withheld when it trips the prefilter. */
  excerpt: string;
  /** One paragraph for people (console, PR body). It quotes reports, so it never goes into a model prompt (see agent-prompt.ts). */
  text: string;
}

export const MAX_EXCERPT_CHARS = 160;
export const EXCERPT_WITHHELD = '[excerpt withheld: injection signals]';

/**
 * Text safe to place in trusted context: no markup, links, mentions, code or invisible
 * characters, bounded in length. Quotes stay out so an excerpt cannot pose as a nested string.
 */
export function sanitizeExcerpt(raw: string, maxChars = MAX_EXCERPT_CHARS): string {
  const plain = removeTagNameVariants(raw.slice(0, maxChars * 8))
    .normalize('NFKC')
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu, ' ')
    .replace(/\b(?:https?|ftp|file|data|javascript):\S*/giu, ' link-removed ')
    .replace(/\bwww\.\S+/giu, ' link-removed ')
    .replace(/[<>[\](){}!`*_#|\\$&~^"=@\u2039\u203A\u00AB\u00BB]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  if (plain.length <= maxChars) return plain;
  const cut = plain.slice(0, maxChars - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${atWord > maxChars / 2 ? cut.slice(0, atWord) : cut}…`;
}

function mostCommon(values: string[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (best === null || n > counts.get(best)!) best = v;
  }
  return best;
}

function countSentence(count: number, firstSeenAt: string, lastSeenAt: string): string {
  return `${count} report${count === 1 ? '' : 's'}, first seen ${firstSeenAt}, last seen ${lastSeenAt}.`;
}

// The opening sentence of a summary's text, as countSentence writes it (ISO times hold no spaces).
const COUNT_SENTENCE = /^(\d{1,9}) reports?, first seen (\S+), last seen (\S+)\./u;

/**
 * A stored summary text after one more report joined the batch, without reading the
 * members again. Only the count and the last-seen time change: the excerpt is the first
 * report's, and the top error is shared by every member (findBatch lets a report with an
 * error join only a batch keyed by the same error signature, and one without an error only
 * a text batch). Null when the text is not in summarizeBatch's shape or the report predates
 * the first one; then the caller summarises the members.
 */
export function summaryTextAfterJoin(text: string, joinedAt: Date): { text: string; count: number } | null {
  const m = COUNT_SENTENCE.exec(text);
  if (!m) return null;
  const [sentence, n, firstSeenAt, lastSeenAt] = m as unknown as [string, string, string, string];
  const first = Date.parse(firstSeenAt);
  const last = Date.parse(lastSeenAt);
  if (Number.isNaN(first) || Number.isNaN(last) || joinedAt.getTime() < first) return null;
  const count = Number(n) + 1;
  const lastSeen = joinedAt.getTime() > last ? joinedAt.toISOString() : lastSeenAt;
  return { count, text: countSentence(count, firstSeenAt, lastSeen) + text.slice(sentence.length) };
}

export function summarizeBatch(members: readonly BatchMember[]): BatchSummary {
  if (members.length === 0) throw new RangeError('summarizeBatch needs at least one report');
  const ordered = [...members].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  const first = ordered[0]!;
  const last = ordered[ordered.length - 1]!;
  const signatures = ordered.map((m) => fingerprint(m.content)).flatMap((f) => (f.kind === 'error' ? [f.signature] : []));
  const top = mostCommon(signatures);
  const topError = top === null ? null : sanitizeExcerpt(top);
  const candidate = sanitizeExcerpt(first.content.text);
  const excerpt = prefilterReport({ text: candidate }).signals.length > 0 ? EXCERPT_WITHHELD : candidate;
  const firstSeenAt = first.receivedAt.toISOString();
  const lastSeenAt = last.receivedAt.toISOString();
  const text = [
    countSentence(ordered.length, firstSeenAt, lastSeenAt),
    topError === null ? 'No console error.' : `Top error: ${topError}.`,
    `Excerpt of the first report: ${excerpt}`,
  ].join(' ');
  return { count: ordered.length, topError, firstSeenAt, lastSeenAt, excerpt, text };
}
