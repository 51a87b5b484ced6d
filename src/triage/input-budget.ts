import { defaultInjectionRules, type InjectionRules } from './injection-rules.js';
import { signalledConsoleLines } from './prefilter.js';
import { capReportFields, truncationMarker } from './report-caps.js';
import type { Breadcrumb, ConsoleLine, EnvironmentInfo, NetworkEntry, PageInfo, ReportContent, ReporterInfo } from './report-content.js';
import { encodeJson, wrapReport, type WrapperExtras } from './wrap.js';

/**
 * Model input budgets for one wrapped report, in UTF-8 bytes of the whole user message
 * (wrapper tags included, measured after escaping, which is what the model receives).
 */
export const CLASSIFIER_INPUT_BYTES = 16 * 1024;
export const AGENT_REPORT_BYTES = 64 * 1024;

/** Shares of the budget (after the wrapper's own overhead) that the text and the page/reporter metadata may take at most. */
const TEXT_SHARE = 1 / 2;
const METADATA_SHARE = 1 / 8;
/** The widget's context (failed requests, breadcrumbs, environment) together, the latest entries first. */
const CONTEXT_SHARE = 1 / 8;
const REPORTER_KEY_BYTES = 128;
const REPORTER_VALUE_BYTES = 256;
/** A console line that does not fit whole is cut to the room left, if at least this much is left. */
const MIN_PARTIAL_LINE_BYTES = 256;
/** Pretty-printed JSON nests console lines and metadata entries this deep (spaces per line). */
const NESTED_INDENT = 4;

export interface BudgetOptions {
  nonce: string;
  maxBytes: number;
  batch?: WrapperExtras['batch'];
  /** Patterns that decide which console lines go first; the shipped rules by default. */
  rules?: InjectionRules;
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const encodedBytes = (value: unknown): number => utf8Bytes(encodeJson(value));

/** A value's cost inside the pretty-printed body: its own JSON lines, each indented, plus the separator. */
function nestedCost(value: unknown): number {
  const json = encodeJson(value);
  const lines = json.split('\n').length;
  return utf8Bytes(json) + NESTED_INDENT * lines + 2;
}

/** Never end a cut between the two halves of a surrogate pair. */
function safeEnd(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/** `text`, or its longest prefix plus `…[truncated N bytes]` whose encoded JSON string fits `budget`. */
function truncateEncoded(text: string, budget: number): string {
  if (encodedBytes(text) <= budget) return text;
  const total = utf8Bytes(text);
  const cut = (end: number): string => {
    const kept = text.slice(0, safeEnd(text, end));
    return kept + truncationMarker(total - utf8Bytes(kept));
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodedBytes(cut(mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

interface Selection {
  text: string;
  page: PageInfo;
  reporter: [string, ReporterInfo[string]][];
  reporterFields: number;
  /** Chosen console lines by index, in the order they were chosen (highest priority first). */
  lines: Map<number, ConsoleLine>;
  network: NetworkEntry[];
  breadcrumbs: Breadcrumb[];
  environment: EnvironmentInfo | undefined;
}

interface ContextSelection {
  network: NetworkEntry[];
  breadcrumbs: Breadcrumb[];
  environment: EnvironmentInfo | undefined;
}

/** The latest entries of `items` whose cost fits `budget`, in their original order. */
function latestThatFit<T>(items: readonly T[], budget: number): { chosen: T[]; left: number } {
  const chosen: T[] = [];
  let left = budget;
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const cost = nestedCost(items[i]);
    if (cost > left) break;
    chosen.unshift(items[i]!);
    left -= cost;
  }
  return { chosen, left };
}

function fitContext(content: ReportContent, budget: number): ContextSelection {
  const environment = content.environment && nestedCost(content.environment) <= budget / 4 ? content.environment : undefined;
  const afterEnv = budget - (environment ? nestedCost(environment) : 0);
  const network = latestThatFit(content.network ?? [], afterEnv / 2);
  const breadcrumbs = latestThatFit(content.breadcrumbs ?? [], afterEnv / 2 + network.left);
  return { network: network.chosen, breadcrumbs: breadcrumbs.chosen, environment };
}

function fitPage(page: PageInfo | undefined, budget: number): PageInfo {
  if (!page) return {};
  const out: PageInfo = { ...page };
  if (page.url !== undefined) out.url = truncateEncoded(page.url, Math.floor(budget / 2));
  if (page.userAgent !== undefined) out.userAgent = truncateEncoded(page.userAgent, Math.floor(budget / 4));
  return out;
}

function fitReporter(reporter: ReporterInfo | undefined, budget: number): [string, ReporterInfo[string]][] {
  const chosen: [string, ReporterInfo[string]][] = [];
  let left = budget;
  for (const [key, value] of Object.entries(reporter ?? {})) {
    if (utf8Bytes(key) > REPORTER_KEY_BYTES) continue;
    const fitted = typeof value === 'string' ? truncateEncoded(value, REPORTER_VALUE_BYTES) : value;
    const cost = encodedBytes(key) + encodedBytes(fitted) + NESTED_INDENT + 4;
    if (cost > left) continue;
    chosen.push([key, fitted]);
    left -= cost;
  }
  return chosen;
}

/** Signalled lines first, then errors, then warnings, then the rest; within each, the latest first. */
function consolePriority(lines: readonly ConsoleLine[], signalled: Set<number>): number[] {
  const group = (i: number): number => (signalled.has(i) ? 0 : lines[i]!.level === 'error' ? 1 : lines[i]!.level === 'warn' ? 2 : 3);
  return lines.map((_, i) => i).sort((a, b) => group(a) - group(b) || b - a);
}

function fitConsole(lines: readonly ConsoleLine[], order: readonly number[], budget: number): Map<number, ConsoleLine> {
  const chosen = new Map<number, ConsoleLine>();
  let left = budget;
  for (const i of order) {
    if (left < MIN_PARTIAL_LINE_BYTES) break;
    const line = lines[i]!;
    let cost = nestedCost(line);
    let fitted = line;
    if (cost > left) {
      const overhead = nestedCost({ ...line, message: '' });
      if (left - overhead < MIN_PARTIAL_LINE_BYTES) continue;
      fitted = { ...line, message: truncateEncoded(line.message, left - overhead) };
      cost = nestedCost(fitted);
      if (cost > left) continue;
    }
    chosen.set(i, fitted);
    left -= cost;
  }
  return chosen;
}

function render(s: Selection, opts: BudgetOptions, allLines: readonly ConsoleLine[], whole: ReportContent): string {
  const consoleLines = allLines.length - s.lines.size;
  const networkEntries = (whole.network?.length ?? 0) - s.network.length;
  const breadcrumbs = (whole.breadcrumbs?.length ?? 0) - s.breadcrumbs.length;
  const omitted =
    consoleLines > 0 || s.reporterFields > s.reporter.length || networkEntries > 0 || breadcrumbs > 0
      ? {
          consoleLines,
          reporterFields: s.reporterFields - s.reporter.length,
          ...(networkEntries > 0 ? { networkEntries } : {}),
          ...(breadcrumbs > 0 ? { breadcrumbs } : {}),
        }
      : undefined;
  const content: ReportContent = {
    text: s.text,
    console: [...s.lines.entries()].sort(([a], [b]) => a - b).map(([, line]) => line),
    page: s.page,
    reporter: Object.fromEntries(s.reporter),
    ...(s.network.length ? { network: s.network } : {}),
    ...(s.breadcrumbs.length ? { breadcrumbs: s.breadcrumbs } : {}),
    ...(s.environment ? { environment: s.environment } : {}),
  };
  return wrapReport(content, opts.nonce, { batch: opts.batch, omitted });
}

/**
 * The report wrapped for a model, at most `maxBytes`. A report that fits is wrapped whole.
 * One that does not keeps its text (cut to at most half the budget), bounded page and
 * reporter metadata, and as many console lines as fit: first the lines in which an
 * injection pattern matches (so the classifier sees what raised the prefilter's signals),
 * then errors, warnings and the rest, latest first. Lines stay in their original order;
 * an `omitted` field counts what was left out and cut strings end with a marker.
 */
export function wrapReportWithinBudget(content: ReportContent, opts: BudgetOptions): string {
  const capped = capReportFields(content);
  // Escaping only lengthens and the tag-name scrub shortens by a few characters at most, so
  // a report whose plain JSON is this far over the budget is cut without wrapping it whole.
  if (utf8Bytes(JSON.stringify(capped)) <= opts.maxBytes * 1.25) {
    const whole = wrapReport(capped, opts.nonce, { batch: opts.batch });
    if (utf8Bytes(whole) <= opts.maxBytes) return whole;
  }

  const lines = capped.console ?? [];
  const reporterFields = Object.keys(capped.reporter ?? {}).length;
  const overhead = utf8Bytes(wrapReport({ text: '' }, opts.nonce, { batch: opts.batch, omitted: { consoleLines: lines.length, reporterFields } }));
  const budget = Math.max(0, opts.maxBytes - overhead);
  const text = truncateEncoded(capped.text, Math.floor(budget * TEXT_SHARE));
  const metadataBudget = Math.floor(budget * METADATA_SHARE);
  const page = fitPage(capped.page, metadataBudget);
  const reporter = fitReporter(capped.reporter, Math.max(0, metadataBudget - encodedBytes(page)));
  const context = fitContext(capped, Math.floor(budget * CONTEXT_SHARE));
  const contextBytes = encodedBytes([context.network, context.breadcrumbs, context.environment ?? {}]);
  const left = budget - encodedBytes(text) - encodedBytes(page) - encodedBytes(Object.fromEntries(reporter)) - contextBytes;
  const order = consolePriority(lines, signalledConsoleLines(capped, opts.rules ?? defaultInjectionRules()));
  const selection: Selection = { text, page, reporter, reporterFields, lines: fitConsole(lines, order, left), ...context };

  // The costs above are estimates of the pretty-printed layout; the exact size decides.
  let wrapped = render(selection, opts, lines, capped);
  while (utf8Bytes(wrapped) > opts.maxBytes) {
    const chosen = [...selection.lines.keys()];
    if (selection.breadcrumbs.length > 0) selection.breadcrumbs.shift();
    else if (selection.network.length > 0) selection.network.shift();
    else if (selection.environment) selection.environment = undefined;
    else if (chosen.length > 0) selection.lines.delete(chosen[chosen.length - 1]!);
    else if (selection.reporter.length > 0) selection.reporter.pop();
    else if (Object.keys(selection.page).length > 0) selection.page = {};
    else if (selection.text.length > 0) {
      const shorter = truncateEncoded(selection.text, Math.floor(encodedBytes(selection.text) / 2));
      selection.text = shorter === selection.text ? '' : shorter;
    } else break; // only the wrapper's fixed frame is left
    wrapped = render(selection, opts, lines, capped);
  }
  return wrapped;
}
