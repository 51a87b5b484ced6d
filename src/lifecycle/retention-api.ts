import { z } from 'zod';
import type { ApiRoutes, OtherResponse } from '../api/index.js';
import { UserzError } from '../errors.js';
import { MAX_RETENTION_DAYS, setAppRetained, setOrgRetention, setReportRetained, setRunRetained } from './retention.js';
import {
  getBlobRow,
  getReportAttachments,
  getRetentionSettings,
  listBlobsOfReport,
  listBlobsOfRun,
  type BlobRow,
  type BlobStore,
  type Db,
} from '../store/index.js';

export interface RetentionRouteDeps {
  db: Db;
  blobs: BlobStore;
}

/** Presigned attachment links last 5 minutes (the store caps any at 15). */
const ATTACHMENT_LINK_SECONDS = 300;

const ReportOrRunRetention = z.object({ retained: z.boolean().nullable() }).strict();
const AppRetention = z.object({ retained: z.boolean() }).strict();
const OrgRetention = z.object({ days: z.number().int().min(1).max(MAX_RETENTION_DAYS) }).strict();
const BODY = { limit: 4096, requireJson: false, invalidCode: 'invalid_input' } as const;

const BlobView = z.object({
  key: z.string(),
  kind: z.string(),
  createdAt: z.iso.datetime(),
  expired: z.boolean(),
  expiredAt: z.iso.datetime().nullable(),
});
const Blobs = z.object({ blobs: z.array(BlobView) });
const Expired = z.object({ error: z.object({ code: z.enum(['blob_expired']), message: z.string() }) }).describe('The lifecycle job removed the file');

/**
 * Retention, with an `sk_` key of the org:
 *   GET /api/v1/retention                   → {days, apps:[{id, retained}]}
 *   PUT /api/v1/retention                   {days}        the org's retention (default 30), admin
 *   PUT /api/v1/apps/:id/retention          {retained}    the App's default for its reports and runs, write
 *   PUT /api/v1/reports/:id/retention       {retained}    true, false, or null to follow the App, write
 *   PUT /api/v1/runs/:id/retention          {retained}
 *   GET /api/v1/reports/:id/blobs, GET /api/v1/runs/:id/blobs → each blob with createdAt and expiredAt
 *   GET /api/v1/reports/:id/attachments/:attachmentId → the bytes (local store) or a 302 to a
 *       5-minute presigned URL (S3); 410 `blob_expired` once the lifecycle job removed it.
 */
export function registerRetentionRoutes(api: ApiRoutes, deps: RetentionRouteDeps): void {
  const tag = 'Retention';
  api
    .add({
      method: 'GET',
      path: '/api/v1/retention',
      operationId: 'getRetention',
      tag,
      summary: "The org's retention and each App's default",
      permission: 'read',
      responses: { 200: z.object({ days: z.number().int(), apps: z.array(z.object({ id: z.string(), retained: z.boolean() })) }) },
      errors: ['org_not_found'],
    })
    .handle(async ({ principal }) => {
      const settings = await getRetentionSettings(deps.db, principal.orgId);
      if (!settings) throw new UserzError('org_not_found', 'No such org');
      return { status: 200, body: settings };
    });

  api
    .add({
      method: 'PUT',
      path: '/api/v1/retention',
      operationId: 'setRetention',
      tag,
      summary: 'How many days files are kept unless retained (default 30)',
      permission: 'admin',
      body: { schema: OrgRetention, ...BODY },
      responses: { 200: z.object({ days: z.number().int() }) },
      errors: ['org_not_found'],
    })
    .handle(async ({ principal, body }) => {
      await setOrgRetention(deps.db, principal.orgId, body.days, principal.actor);
      return { status: 200, body: { days: body.days } };
    });

  api
    .add({
      method: 'PUT',
      path: '/api/v1/apps/:id/retention',
      operationId: 'setAppRetention',
      tag,
      summary: "An App's default for its reports and runs",
      permission: 'edit',
      body: { schema: AppRetention, ...BODY },
      responses: { 200: z.object({ id: z.string(), retained: z.boolean() }) },
      errors: ['app_not_found'],
    })
    .handle(async ({ principal, params, body }) => {
      await setAppRetained(deps.db, principal.orgId, params.id!, body.retained, principal.actor);
      return { status: 200, body: { id: params.id!, retained: body.retained } };
    });

  api
    .add({
      method: 'PUT',
      path: '/api/v1/reports/:id/retention',
      operationId: 'setReportRetention',
      tag,
      summary: "Keep a report's files (true), let them expire (false) or follow its App (null)",
      permission: 'decide',
      body: { schema: ReportOrRunRetention, ...BODY },
      responses: { 200: Blobs.extend({ id: z.string(), retained: z.boolean().nullable() }) },
      errors: ['report_not_found'],
    })
    .handle(async ({ principal, params, body }) => {
      await setReportRetained(deps.db, principal.orgId, params.id!, body.retained, principal.actor);
      return { status: 200, body: { id: params.id!, retained: body.retained, blobs: (await listBlobsOfReport(deps.db, params.id!)).map(blobView) } };
    });

  api
    .add({
      method: 'PUT',
      path: '/api/v1/runs/:id/retention',
      operationId: 'setRunRetention',
      tag,
      summary: "Keep a run's log and change set (true), let them expire (false) or follow its App (null)",
      permission: 'decide',
      body: { schema: ReportOrRunRetention, ...BODY },
      responses: { 200: Blobs.extend({ id: z.string(), retained: z.boolean().nullable() }) },
      errors: ['run_not_found'],
    })
    .handle(async ({ principal, params, body }) => {
      await setRunRetained(deps.db, principal.orgId, params.id!, body.retained, principal.actor);
      return { status: 200, body: { id: params.id!, retained: body.retained, blobs: (await listBlobsOfRun(deps.db, params.id!)).map(blobView) } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/reports/:id/blobs',
      operationId: 'listReportBlobs',
      tag,
      summary: "A report's files, with when each expired",
      permission: 'read',
      responses: { 200: Blobs },
      errors: ['report_not_found'],
    })
    .handle(async ({ principal, params }) => {
      if ((await getReportAttachments(deps.db, principal.orgId, params.id!)) === null) throw new UserzError('report_not_found', 'No such report');
      return { status: 200, body: { blobs: (await listBlobsOfReport(deps.db, params.id!)).map(blobView) } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/runs/:id/blobs',
      operationId: 'listRunBlobs',
      tag,
      summary: "A run's log and change set, with when each expired",
      permission: 'read',
      responses: { 200: Blobs },
      errors: ['run_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const blobs = await listBlobsOfRun(deps.db, params.id!);
      if (blobs.some((b) => b.orgId !== principal.orgId)) throw new UserzError('run_not_found', 'No such run');
      return { status: 200, body: { blobs: blobs.map(blobView) } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/reports/:id/attachments/:attachmentId',
      operationId: 'getReportAttachment',
      tag,
      summary: "A report's attachment: the bytes, or a redirect to a 5-minute link",
      permission: 'read',
      responses: {
        200: { description: 'The file, as a download', contentType: 'application/octet-stream' } satisfies OtherResponse,
        302: { description: 'A presigned link valid for 5 minutes (S3 storage)' } satisfies OtherResponse,
        410: Expired,
      },
      errors: ['report_not_found'],
    })
    .handle(async ({ principal, params, res }) => {
      const attachments = await getReportAttachments(deps.db, principal.orgId, params.id!);
      const attachment = attachments?.find((a) => a.id === params.attachmentId);
      if (!attachment) throw new UserzError('report_not_found', 'No such report or attachment');
      const row = await getBlobRow(deps.db, attachment.blobKey);
      if (row?.expiredAt) return expired(row.expiredAt);
      const url = await deps.blobs.presignGet(attachment.blobKey, ATTACHMENT_LINK_SECONDS);
      if (url) {
        res.writeHead(302, { location: url, 'cache-control': 'no-store' }).end();
        return { status: 302, sent: true };
      }
      const data = await deps.blobs.get(attachment.blobKey);
      if (!data) return expired(null);
      res.writeHead(200, {
        // Served as a download, never rendered on our origin: the bytes came from a stranger.
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment',
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-store',
        'content-length': data.length,
      });
      res.end(data);
      return { status: 200, sent: true };
    });
}

function blobView(b: BlobRow) {
  return { key: b.key, kind: b.kind, createdAt: b.createdAt.toISOString(), expired: b.expiredAt !== null, expiredAt: b.expiredAt?.toISOString() ?? null };
}

function expired(at: Date | null) {
  const message = at ? `This file expired on ${at.toISOString().slice(0, 10)} under the org's retention` : 'This file is no longer stored';
  return { status: 410 as const, body: { error: { code: 'blob_expired' as const, message } } };
}
