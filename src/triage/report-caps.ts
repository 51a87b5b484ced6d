import type { Breadcrumb, ConsoleLine, EnvironmentInfo, NetworkEntry, PageInfo, ReportContent, ReporterInfo } from './report-content.js';

/**
 * Per-field caps applied when a report is normalised (intake) and again before a report is
 * wrapped for a model (reports stored before the caps existed). A cut string ends with a
 * visible marker, so neither a model nor a maintainer mistakes it for the whole message.
 */
export const CONSOLE_MESSAGE_BYTES = 2 * 1024;
/** A console `ts` may be a string; a timestamp never needs more. */
export const CONSOLE_TS_BYTES = 64;

export const truncationMarker = (removedBytes: number): string => `…[truncated ${removedBytes} bytes]`;

/** The longest prefix of `text` whose UTF-8 encoding fits `maxBytes`, never splitting a code point. */
function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const cp of text) {
    const size = Buffer.byteLength(cp, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += cp.length;
  }
  return text.slice(0, end);
}

/**
 * `text` unchanged when it fits `maxBytes` of UTF-8; otherwise a prefix followed by
 * `…[truncated N bytes]` (N: the bytes cut off), the whole at most `maxBytes`.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  // The marker's own length depends on N; N is at most `total`, so reserve for that many digits.
  const reserve = Buffer.byteLength(truncationMarker(total), 'utf8');
  const kept = utf8Prefix(text, Math.max(0, maxBytes - reserve));
  return kept + truncationMarker(total - Buffer.byteLength(kept, 'utf8'));
}

export function capConsoleLine(line: ConsoleLine): ConsoleLine {
  const message = truncateUtf8(line.message, CONSOLE_MESSAGE_BYTES);
  const ts = typeof line.ts === 'string' ? truncateUtf8(line.ts, CONSOLE_TS_BYTES) : line.ts;
  if (message === line.message && ts === line.ts) return line;
  return { ...line, message, ...(ts === undefined ? {} : { ts }) };
}

/** The report with every console message cut to CONSOLE_MESSAGE_BYTES. */
export function capConsoleMessages<T extends Pick<ReportContent, 'console'>>(content: T): T {
  if (!content.console) return content;
  return { ...content, console: content.console.map(capConsoleLine) };
}

/**
 * Page metadata and reporter values reach a model too, so they are capped like console
 * messages: an 8 MB URL or user agent would otherwise be stored whole and cost seconds of
 * CPU to cut to a model's budget on every triage.
 */
export const PAGE_URL_BYTES = 4 * 1024;
export const USER_AGENT_BYTES = 1024;
export const REPORTER_VALUE_BYTES = 1024;

function capPage(page: PageInfo): PageInfo {
  const out = { ...page };
  if (page.url !== undefined) out.url = truncateUtf8(page.url, PAGE_URL_BYTES);
  if (page.userAgent !== undefined) out.userAgent = truncateUtf8(page.userAgent, USER_AGENT_BYTES);
  return out;
}

function capReporter(reporter: ReporterInfo): ReporterInfo {
  return Object.fromEntries(
    Object.entries(reporter).map(([key, value]) => [key, typeof value === 'string' ? truncateUtf8(value, REPORTER_VALUE_BYTES) : value]),
  );
}

/** Widget context (network failures, breadcrumbs, environment): each string cut like a console message. */
export const NETWORK_URL_BYTES = 2 * 1024;
export const NETWORK_BODY_BYTES = 2 * 1024;
export const SHORT_FIELD_BYTES = 256;
export const BREADCRUMB_TEXT_BYTES = 256;

const capOptional = (value: string | undefined, maxBytes: number): string | undefined => (value === undefined ? undefined : truncateUtf8(value, maxBytes));

function capHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [truncateUtf8(k, SHORT_FIELD_BYTES), truncateUtf8(v, SHORT_FIELD_BYTES)]));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function capNetworkEntry(entry: NetworkEntry): NetworkEntry {
  return withoutUndefined({
    ...entry,
    url: truncateUtf8(entry.url, NETWORK_URL_BYTES),
    error: capOptional(entry.error, SHORT_FIELD_BYTES),
    requestHeaders: capHeaders(entry.requestHeaders),
    responseHeaders: capHeaders(entry.responseHeaders),
    requestBody: capOptional(entry.requestBody, NETWORK_BODY_BYTES),
    responseBody: capOptional(entry.responseBody, NETWORK_BODY_BYTES),
  });
}

export function capBreadcrumb(crumb: Breadcrumb): Breadcrumb {
  return withoutUndefined({
    ...crumb,
    url: capOptional(crumb.url, NETWORK_URL_BYTES),
    text: capOptional(crumb.text, BREADCRUMB_TEXT_BYTES),
  });
}

export function capEnvironment(env: EnvironmentInfo): EnvironmentInfo {
  const out: EnvironmentInfo = { ...env };
  for (const key of ['browser', 'os', 'language', 'timeZone', 'release'] as const) out[key] = capOptional(env[key], SHORT_FIELD_BYTES);
  if (env.custom) out.custom = capReporter(env.custom);
  return withoutUndefined(out);
}

/** The report with console messages, page URL and user agent, reporter values and widget context cut to their caps. */
export function capReportFields<T extends ReportContent>(content: T): T {
  const out = capConsoleMessages(content);
  return {
    ...out,
    ...(out.page ? { page: capPage(out.page) } : {}),
    ...(out.reporter ? { reporter: capReporter(out.reporter) } : {}),
    ...(out.network ? { network: out.network.map(capNetworkEntry) } : {}),
    ...(out.breadcrumbs ? { breadcrumbs: out.breadcrumbs.map(capBreadcrumb) } : {}),
    ...(out.environment ? { environment: capEnvironment(out.environment) } : {}),
  };
}
