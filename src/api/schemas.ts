import { z } from 'zod';
import type { ApiKeySummary, BatchListItem, RepoListItem, ReportListItem, RunListItem, StoredAuditEvent } from '../store/index.js';

/**
 * The shapes the `/api/v1` routes answer with and the query fields they share. Times are
 * ISO 8601 strings in UTC; absent values are null, never missing.
 */
const time = z.iso.datetime();
const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/** `?cursor=&limit=` of every list. */
export const pageQuery = {
  cursor: z.string().min(1).max(512).optional().describe('The `nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Items per page, 1 to 100'),
};

/** `?since=`: an ISO 8601 time with its offset; items created at or after it. */
export const sinceQuery = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .optional()
  .describe('Only items created at or after this ISO 8601 time');

export const idQuery = (what: string) => z.string().min(1).max(200).optional().describe(what);

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last') });
}

const SCOPE_VALUES = ['read', 'write', 'admin'] as const;
export const ScopeList = z.array(z.enum(SCOPE_VALUES)).min(1).max(3);

export const ApiKeyView = z.object({
  id: z.string(),
  label: z.string().nullable(),
  prefix: z.string().describe('The public part of the key: sk_<prefix>_…'),
  scopes: ScopeList,
  createdAt: time,
  lastUsedAt: time.nullable(),
  revokedAt: time.nullable(),
});

export const apiKeyView = (k: ApiKeySummary): z.input<typeof ApiKeyView> => ({
  id: k.id,
  label: k.label,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: iso(k.createdAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
  revokedAt: isoOrNull(k.revokedAt),
});

export const RUN_STATE_VALUES = ['queued', 'triaged', 'running', 'checking', 'pr_opened', 'pr_failed', 'rejected', 'needs_review', 'errored'] as const;

export const RunView = z.object({
  id: z.string(),
  appId: z.string(),
  batchId: z.string(),
  repoId: z.string().nullable(),
  state: z.enum(RUN_STATE_VALUES),
  reason: z.string().nullable().describe('Why the run is in its state (e.g. approved, maintainer_rejected, budget_exhausted)'),
  verdict: z.unknown().describe("The guardrail's verdict on the change, when it was checked"),
  prUrl: z.string().nullable(),
  prNumber: z.number().int().nullable(),
  reviewState: z.string().nullable(),
  retained: z.boolean().nullable().describe('true or false when set on the run; null follows its App'),
  createdAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
});

export const runView = (r: RunListItem): z.input<typeof RunView> => ({
  id: r.id,
  appId: r.appId,
  batchId: r.batchId,
  repoId: r.repoId,
  state: r.state,
  reason: r.stateReason,
  verdict: r.verdict ?? null,
  prUrl: r.prUrl,
  prNumber: r.prNumber,
  reviewState: r.reviewState,
  retained: r.retained,
  createdAt: iso(r.createdAt),
  startedAt: isoOrNull(r.startedAt),
  finishedAt: isoOrNull(r.finishedAt),
});

export const BatchView = z.object({
  id: z.string(),
  appId: z.string(),
  summary: z.string(),
  reportCount: z.number().int(),
  openUntil: time,
  firstSeenAt: time,
  lastSeenAt: time,
  createdAt: time,
  run: z.object({ id: z.string(), state: z.enum(RUN_STATE_VALUES) }).nullable(),
});

export const batchView = (b: BatchListItem): z.input<typeof BatchView> => ({
  id: b.id,
  appId: b.appId,
  summary: b.summary,
  reportCount: b.reportCount,
  openUntil: iso(b.openUntil),
  firstSeenAt: iso(b.firstSeenAt),
  lastSeenAt: iso(b.lastSeenAt),
  createdAt: iso(b.createdAt),
  run: b.run ? { id: b.run.id, state: b.run.state as (typeof RUN_STATE_VALUES)[number] } : null,
});

export const RepoView = z.object({
  id: z.string(),
  forge: z.enum(['github', 'gitlab']),
  fullName: z.string(),
  externalId: z.string(),
  baseUrl: z.string().describe('Empty for github.com / gitlab.com; else the API base URL'),
  defaultBranch: z.string(),
  installationId: z.number().int().nullable(),
  active: z.boolean().describe('Neither removed from the installation nor suspended'),
  suspendedAt: time.nullable(),
  removedAt: time.nullable(),
  createdAt: time,
});

export const repoView = (r: RepoListItem): z.input<typeof RepoView> => ({
  id: r.id,
  forge: r.forge,
  fullName: r.fullName,
  externalId: r.externalId,
  baseUrl: r.baseUrl,
  defaultBranch: r.defaultBranch,
  installationId: r.installationId,
  active: r.removedAt === null && r.suspendedAt === null,
  suspendedAt: isoOrNull(r.suspendedAt),
  removedAt: isoOrNull(r.removedAt),
  createdAt: iso(r.createdAt),
});

export const REPORT_STATE_VALUES = ['received', 'triaged', 'needs_review', 'rejected', 'errored'] as const;
export const REPORT_LABEL_VALUES = ['benign', 'spam', 'malicious_injection', 'abuse', 'off_topic'] as const;
export const CHANNEL_VALUES = ['widget', 'slack', 'discord', 'api'] as const;

export const ReportListView = z.object({
  id: z.string(),
  appId: z.string(),
  appName: z.string(),
  channel: z.enum(CHANNEL_VALUES),
  state: z.string().describe('received | triaged | needs_review | rejected | errored'),
  reason: z.string().nullable(),
  label: z.string().nullable().describe("The classifier's label, once triaged"),
  excerpt: z.string().describe("The first characters of the reporter's text, as they wrote it"),
  reporter: z.record(z.string(), z.unknown()).nullable().describe('What the channel knows of the reporter'),
  batchId: z.string().nullable(),
  batchSize: z.number().int().nullable(),
  run: z.object({ id: z.string(), state: z.string() }).nullable(),
  createdAt: time,
});

export const reportListView = (r: ReportListItem): z.input<typeof ReportListView> => ({
  id: r.id,
  appId: r.appId,
  appName: r.appName,
  channel: r.channel,
  state: r.state,
  reason: r.stateReason,
  label: r.label,
  excerpt: r.excerpt,
  reporter: r.reporter,
  batchId: r.batchId,
  batchSize: r.batchSize === null ? null : Number(r.batchSize),
  run: r.runId ? { id: r.runId, state: r.runState ?? 'queued' } : null,
  createdAt: iso(r.createdAt),
});

export const AuditEventView = z.object({
  id: z.string().describe('Increasing in the order events were written'),
  at: time,
  actor: z.string().describe('api_key:…, user:…, cli or system'),
  action: z.string(),
  subject: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).describe('Ids and small facts only, never secrets or report text'),
});

export const auditEventView = (e: StoredAuditEvent): z.input<typeof AuditEventView> => ({
  id: String(e.id),
  at: iso(e.at),
  actor: e.actor,
  action: e.action,
  subject: e.subject ?? null,
  data: e.data,
});
