import { defaultInjectionRules, type InjectionRules } from './injection-rules.js';
import { normalizeForMatching } from './normalize.js';
import type { ReportContent } from './report-content.js';

/** One pattern that matched: a soft signal, not a verdict. */
export interface Signal {
  id: string;
  /** The pattern's weight; a pattern counts once however often it matches. */
  score: number;
  /** How many matches were seen (capped at MAX_COUNTED_MATCHES). */
  count: number;
}

export interface PrefilterResult {
  signals: Signal[];
  /** Sum of the signal scores; policy compares it with the rules' threshold. */
  score: number;
  threshold: number;
}

const MAX_COUNTED_MATCHES = 100;

/** Everything of a report that reaches a model: text, console lines, page metadata, reporter. */
export function scannableText(content: ReportContent): string {
  const parts = [content.text];
  for (const line of content.console ?? []) parts.push(line.message);
  if (content.page?.url) parts.push(content.page.url);
  if (content.page?.userAgent) parts.push(content.page.userAgent);
  for (const value of Object.values(content.reporter ?? {})) if (typeof value === 'string') parts.push(value);
  return parts.join('\n');
}

function countMatches(regex: RegExp, text: string): number {
  regex.lastIndex = 0;
  let count = 0;
  while (count < MAX_COUNTED_MATCHES && regex.exec(text) !== null) {
    count += 1;
    // The shipped patterns never match empty, but a rules edit could: never loop in place.
    if (regex.lastIndex === 0) break;
  }
  regex.lastIndex = 0;
  return count;
}

/** Runs the injection patterns over the report. Input past `maxScanChars` is not scanned; its presence is a signal. */
export function prefilterReport(content: ReportContent, rules: InjectionRules = defaultInjectionRules()): PrefilterResult {
  const full = scannableText(content);
  const raw = full.length > rules.maxScanChars ? full.slice(0, rules.maxScanChars) : full;
  const normalized = normalizeForMatching(raw);
  const signals: Signal[] = [];
  if (raw.length < full.length) signals.push({ id: 'oversized_input', score: rules.oversizedWeight, count: 1 });
  for (const pattern of rules.patterns) {
    const count = countMatches(pattern.regex, pattern.target === 'raw' ? raw : normalized);
    if (count > 0) signals.push({ id: pattern.id, score: pattern.weight, count });
  }
  const score = Math.round(signals.reduce((sum, s) => sum + s.score, 0) * 1000) / 1000;
  return { signals, score, threshold: rules.threshold };
}
