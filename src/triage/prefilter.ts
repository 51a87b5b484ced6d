import { defaultInjectionRules, type InjectionRules } from './injection-rules.js';
import { normalizeForMatching } from './normalize.js';
import type { ConsoleLine, ReportContent } from './report-content.js';

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

/** The strings of one console line that reach a model. */
function consoleLineText(line: ConsoleLine): string {
  return typeof line.ts === 'string' ? `${line.message}\n${line.ts}` : line.message;
}

/** Everything of a report that reaches a model: text, console lines, page metadata, reporter names and values. */
export function scannableText(content: ReportContent): string {
  const parts = [content.text];
  for (const line of content.console ?? []) parts.push(consoleLineText(line));
  if (content.page?.url) parts.push(content.page.url);
  if (content.page?.userAgent) parts.push(content.page.userAgent);
  for (const [key, value] of Object.entries(content.reporter ?? {})) parts.push(typeof value === 'string' ? `${key}\n${value}` : key);
  parts.push(...widgetContextStrings(content));
  return parts.join('\n');
}

/** Every string of the widget's context (failed requests, breadcrumbs, environment), names included. */
export function widgetContextStrings(content: ReportContent): string[] {
  const out: string[] = [];
  const strings = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(strings);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        out.push(k);
        strings(v);
      }
    }
  };
  strings([content.network ?? [], content.breadcrumbs ?? [], content.environment ?? {}]);
  return out;
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

function matchesOnce(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  const hit = regex.test(text);
  regex.lastIndex = 0;
  return hit;
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

/**
 * Indices of the console lines in which some pattern matches on its own. When a report has
 * to be cut to fit a model's input, these lines go first, so the classifier sees what
 * raised the prefilter's signals.
 */
export function signalledConsoleLines(content: ReportContent, rules: InjectionRules = defaultInjectionRules()): Set<number> {
  const found = new Set<number>();
  let scanned = content.text.length;
  for (const [index, line] of (content.console ?? []).entries()) {
    const raw = consoleLineText(line);
    // The same bound as prefilterReport: past it the report already carries `oversized_input`.
    scanned += raw.length + 1;
    if (scanned > rules.maxScanChars) break;
    const normalized = normalizeForMatching(raw);
    if (rules.patterns.some((p) => matchesOnce(p.regex, p.target === 'raw' ? raw : normalized))) found.add(index);
  }
  return found;
}
