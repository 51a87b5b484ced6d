import { z } from 'zod';
import { UserzError } from '../errors.js';
import { capReportFields } from '../triage/index.js';
import { scrubText as scrub } from '../security/index.js';
import { Breadcrumb, ConsoleLine, EnvironmentInfo, NetworkEntry, PageInfo, ReporterInfo, type ReportContent } from '../triage/index.js';
import { INTAKE_LIMITS } from './limits.js';

/**
 * The ingest body: triage's ReportContent plus attachments as base64 entries. Base64 in
 * JSON (not multipart) so one body cap bounds everything and one parser reads it.
 */
const ALLOWED_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'text/plain', 'application/json'] as const;

export const AttachmentInput = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f/\\]+$/, 'no slashes or control characters'),
  contentType: z.enum(ALLOWED_TYPES),
  data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});

export const ReportInput = z.object({
  text: z.string().refine((t) => t.trim().length > 0, 'must not be empty'),
  console: z.array(ConsoleLine).optional(),
  page: PageInfo.optional(),
  reporter: ReporterInfo.optional(),
  attachments: z.array(AttachmentInput).optional(),
  network: z.array(NetworkEntry).optional(),
  breadcrumbs: z.array(Breadcrumb).optional(),
  environment: EnvironmentInfo.optional(),
});
export type ReportInput = z.infer<typeof ReportInput>;

export interface ParsedAttachment {
  name: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedReport {
  content: ReportContent;
  attachments: ParsedAttachment[];
}

/**
 * Parses an ingest body. The hard limits are checked first, each with its own stable
 * code, so a client learns exactly which cap it hit; shape errors are `invalid_report`.
 */
export function parseReportInput(value: unknown): ParsedReport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserzError('invalid_report', 'The report must be a JSON object with a "text" field');
  }
  const raw = value as Record<string, unknown>;
  enforceTextLimit(raw.text);
  if (Array.isArray(raw.console) && raw.console.length > INTAKE_LIMITS.consoleLines) {
    throw new UserzError('too_many_console_lines', `At most ${INTAKE_LIMITS.consoleLines} console lines per report`);
  }
  enforceContextLimits(raw);
  if (Array.isArray(raw.attachments) && raw.attachments.length > INTAKE_LIMITS.attachments) {
    throw new UserzError('too_many_attachments', `At most ${INTAKE_LIMITS.attachments} attachments per report`);
  }
  enforceReporterFieldCount(raw.reporter);
  const parsed = ReportInput.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new UserzError('invalid_report', `Invalid report: ${first.path.join('.') || 'body'} ${first.message}`);
  }
  const { attachments = [], ...content } = parsed.data;
  return {
    // Each console message (and page URL, user agent, reporter value) is cut to its cap with a marker, not refused: the rest still helps.
    // Scrubbing may lengthen a string (a marker for a short email), so the caps apply again after it.
    content: capReportFields(scrubCapturedEntries(capReportFields(content))),
    attachments: attachments.map((a) => ({ name: a.name, contentType: a.contentType, data: Buffer.from(a.data, 'base64') })),
  };
}

function enforceReporterFieldCount(reporter: unknown): void {
  if (typeof reporter !== 'object' || reporter === null || Array.isArray(reporter)) return; // the schema refuses it
  if (Object.keys(reporter).length > INTAKE_LIMITS.reporterFields) {
    throw new UserzError('too_many_reporter_fields', `At most ${INTAKE_LIMITS.reporterFields} reporter fields per report`);
  }
}

/** 8 KB of UTF-8, not 8 K characters: the cap is about storage and model context. */
export function enforceTextLimit(text: unknown): void {
  if (typeof text === 'string' && Buffer.byteLength(text, 'utf8') > INTAKE_LIMITS.textBytes) {
    throw new UserzError('text_too_long', `Report text is longer than ${INTAKE_LIMITS.textBytes} bytes`);
  }
}

const length = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/**
 * Widget context counts against the console-line limit: console lines, failed requests and
 * breadcrumbs together at most `consoleLines`, and each of the latter two at most 50.
 */
function enforceContextLimits(raw: Record<string, unknown>): void {
  if (length(raw.network) > INTAKE_LIMITS.networkEntries) {
    throw new UserzError('too_many_network_entries', `At most ${INTAKE_LIMITS.networkEntries} network entries per report`);
  }
  if (length(raw.breadcrumbs) > INTAKE_LIMITS.breadcrumbs) {
    throw new UserzError('too_many_breadcrumbs', `At most ${INTAKE_LIMITS.breadcrumbs} breadcrumbs per report`);
  }
  if (length(raw.console) + length(raw.network) + length(raw.breadcrumbs) > INTAKE_LIMITS.consoleLines) {
    throw new UserzError('too_many_console_lines', `At most ${INTAKE_LIMITS.consoleLines} console lines, network entries and breadcrumbs together per report`);
  }
  const env = raw.environment;
  const custom = typeof env === 'object' && env !== null ? (env as Record<string, unknown>).custom : undefined;
  if (typeof custom === 'object' && custom !== null && Object.keys(custom).length > INTAKE_LIMITS.contextFields) {
    throw new UserzError('too_many_context_fields', `At most ${INTAKE_LIMITS.contextFields} custom context fields per report`);
  }
}

const TRUNCATION_MARKER = /…\[truncated \d+ bytes\]$/u;

/** The scrubber folds text to NFKC, which would turn the cut marker's ellipsis into three dots: keep the marker as it was. */
function scrubKeepingMarker(text: string): string {
  const marker = TRUNCATION_MARKER.exec(text);
  return marker ? scrub(text.slice(0, marker.index)) + marker[0] : scrub(text);
}

/**
 * The widget scrubs console and network entries on the device; the server does it again
 * (emails, card numbers, tokens …), since an older or modified widget may not have.
 */
function scrubCapturedEntries(content: ReportContent): ReportContent {
  const scrubText = scrubKeepingMarker;
  const scrubRecord = (r: Record<string, string> | undefined) => (r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, scrubText(v)])) : undefined);
  const out: ReportContent = { ...content };
  if (content.console) out.console = content.console.map((l) => ({ ...l, message: scrubText(l.message) }));
  if (content.network) {
    out.network = content.network.map((n) => {
      const e = { ...n, url: scrubText(n.url) };
      if (n.error !== undefined) e.error = scrubText(n.error);
      if (n.requestBody !== undefined) e.requestBody = scrubText(n.requestBody);
      if (n.responseBody !== undefined) e.responseBody = scrubText(n.responseBody);
      if (n.requestHeaders) e.requestHeaders = scrubRecord(n.requestHeaders);
      if (n.responseHeaders) e.responseHeaders = scrubRecord(n.responseHeaders);
      return e;
    });
  }
  if (content.breadcrumbs) {
    out.breadcrumbs = content.breadcrumbs.map((b) => {
      const c = { ...b };
      if (b.url !== undefined) c.url = scrubText(b.url);
      if (b.text !== undefined) c.text = scrubText(b.text);
      return c;
    });
  }
  return out;
}
