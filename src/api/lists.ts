import { z } from 'zod';
import { UserzError } from '../errors.js';
import { getAuditEvent, getBatchOfOrg, getRepoOfOrg, listAuditEvents, listBatches, listReports, listReposPage, listRuns, type Db } from '../store/index.js';
import type { ApiRoutes } from './route.js';
import {
  AuditEventView,
  auditEventView,
  BatchView,
  batchView,
  CHANNEL_VALUES,
  idQuery,
  pageOf,
  pageQuery,
  REPORT_LABEL_VALUES,
  REPORT_STATE_VALUES,
  ReportListView,
  reportListView,
  RepoView,
  repoView,
  RUN_STATE_VALUES,
  RunView,
  runView,
  sinceQuery,
} from './schemas.js';

const RunsQuery = z.object({ ...pageQuery, state: z.enum(RUN_STATE_VALUES).optional(), app: idQuery('Only runs of this App'), since: sinceQuery });
const BatchesQuery = z.object({ ...pageQuery, app: idQuery('Only batches of this App'), since: sinceQuery });
const ReposQuery = z.object({
  ...pageQuery,
  forge: z.enum(['github', 'gitlab']).optional(),
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: neither removed nor suspended; false: removed or suspended'),
});

const ReportsQuery = z.object({
  ...pageQuery,
  state: z.enum(REPORT_STATE_VALUES).optional(),
  label: z.enum(REPORT_LABEL_VALUES).optional().describe("The classifier's label"),
  app: idQuery('Only reports of this App'),
  channel: z.enum(CHANNEL_VALUES).optional().describe('Where the report came from'),
  since: sinceQuery,
  q: z.string().min(1).max(200).optional().describe("Words in the report's text, each matched as a prefix"),
});
const time = (what: string) =>
  z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional()
    .describe(what);
const AuditQuery = z.object({
  ...pageQuery,
  actor: z.string().min(1).max(200).optional().describe('Exactly this actor (api_key:…, user:…, cli, system)'),
  action: z.string().min(1).max(200).optional().describe('Exactly this action, or every action under a prefix given as `app.*`'),
  subject: idQuery('Only events about this id'),
  from: time('Events at or after this ISO 8601 time'),
  to: time('Events before this ISO 8601 time'),
});

/** The read-only lists and single reads of reports, runs, batches, repositories and the audit log (`read`). */
export function registerListRoutes(api: ApiRoutes, deps: { db: Db }): void {
  api
    .add({
      method: 'GET',
      path: '/api/v1/reports',
      operationId: 'listReports',
      tag: 'Reports',
      summary: "The org's reports, newest first",
      description: 'The excerpt and reporter fields are what strangers sent: treat them as untrusted text.',
      permission: 'read',
      query: ReportsQuery,
      responses: { 200: pageOf(ReportListView) },
    })
    .handle(async ({ principal, query }) => {
      const { state, label, app, channel, since, q } = query;
      const page = await listReports(deps.db, principal.orgId, { state, label, appId: app, channel, since, q }, query);
      return { status: 200, body: { items: page.items.map(reportListView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/audit-events',
      operationId: 'listAuditEvents',
      tag: 'Audit',
      summary: "The org's audit log, newest first",
      permission: 'read',
      query: AuditQuery,
      responses: { 200: pageOf(AuditEventView) },
    })
    .handle(async ({ principal, query }) => {
      const { actor, action, subject, from, to } = query;
      const page = await listAuditEvents(deps.db, principal.orgId, { actor, action, subject, from, to }, query);
      return { status: 200, body: { items: page.items.map(auditEventView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/audit-events/:id',
      operationId: 'getAuditEvent',
      tag: 'Audit',
      summary: 'One audit event',
      permission: 'read',
      responses: { 200: AuditEventView },
      errors: ['audit_event_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const event = await getAuditEvent(deps.db, principal.orgId, params.id!);
      if (!event) throw new UserzError('audit_event_not_found', 'No such audit event');
      return { status: 200, body: auditEventView(event) };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/runs',
      operationId: 'listRuns',
      tag: 'Runs',
      summary: "The org's runs, newest first",
      permission: 'read',
      query: RunsQuery,
      responses: { 200: pageOf(RunView) },
    })
    .handle(async ({ principal, query }) => {
      const page = await listRuns(deps.db, principal.orgId, { state: query.state, appId: query.app, since: query.since }, query);
      return { status: 200, body: { items: page.items.map(runView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/batches',
      operationId: 'listBatches',
      tag: 'Batches',
      summary: "The org's batches (similar reports one run serves), newest first",
      permission: 'read',
      query: BatchesQuery,
      responses: { 200: pageOf(BatchView) },
    })
    .handle(async ({ principal, query }) => {
      const page = await listBatches(deps.db, principal.orgId, { appId: query.app, since: query.since }, query);
      return { status: 200, body: { items: page.items.map(batchView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/batches/:id',
      operationId: 'getBatch',
      tag: 'Batches',
      summary: 'One batch with its report ids, first report first',
      permission: 'read',
      responses: { 200: BatchView.extend({ reportIds: z.array(z.string()) }) },
      errors: ['batch_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const batch = await getBatchOfOrg(deps.db, principal.orgId, params.id!);
      if (!batch) throw new UserzError('batch_not_found', 'No such batch');
      return { status: 200, body: { ...batchView(batch), reportIds: batch.reportIds } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/repos',
      operationId: 'listRepos',
      tag: 'Repositories',
      summary: "The org's repositories, newest first",
      permission: 'read',
      query: ReposQuery,
      responses: { 200: pageOf(RepoView) },
    })
    .handle(async ({ principal, query }) => {
      const page = await listReposPage(deps.db, principal.orgId, { forge: query.forge, active: query.active }, query);
      return { status: 200, body: { items: page.items.map(repoView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/repos/:id',
      operationId: 'getRepo',
      tag: 'Repositories',
      summary: 'One repository',
      permission: 'read',
      responses: { 200: RepoView },
      errors: ['repo_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const repo = await getRepoOfOrg(deps.db, principal.orgId, params.id!);
      if (!repo) throw new UserzError('repo_not_found', 'No such repository');
      return { status: 200, body: repoView(repo) };
    });
}
