import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { parseJson, readBody, sendJson, type Router } from '../http/index.js';
import { MAX_RETENTION_DAYS, setAppRetained, setOrgRetention } from './retention.js';
import type { VerifiedApiKey } from '../security/index.js';
import {
  getBlobRow,
  getReportAttachments,
  getRetentionSettings,
  listBlobsOfReport,
  listBlobsOfRun,
  setReportRetention,
  setRunRetention,
  recordAudit,
  type BlobRow,
  type BlobStore,
  type Db,
} from '../store/index.js';

export interface RetentionRouteDeps {
  db: Db;
  blobs: BlobStore;
  /** The process's one `sk_` verifier (limits, hash gate, cache), given the presented key and the request for its client address. */
  verifyKey: (presented: string | undefined, req: IncomingMessage) => Promise<VerifiedApiKey>;
}

/** Presigned attachment links last 5 minutes (the store caps any at 15). */
const ATTACHMENT_LINK_SECONDS = 300;

const ReportOrRunRetention = z.object({ retained: z.boolean().nullable() }).strict();
const AppRetention = z.object({ retained: z.boolean() }).strict();
const OrgRetention = z.object({ days: z.number().int().min(1).max(MAX_RETENTION_DAYS) }).strict();

/**
 * Retention, with an `sk_` key of the org:
 *   GET /api/v1/retention                   → {days, apps:[{id, retained}]}
 *   PUT /api/v1/retention                   {days}        the org's retention (default 30)
 *   PUT /api/v1/apps/:id/retention          {retained}    the App's default for its reports and runs
 *   PUT /api/v1/reports/:id/retention       {retained}    true, false, or null to follow the App
 *   PUT /api/v1/runs/:id/retention          {retained}
 *   GET /api/v1/reports/:id/blobs, GET /api/v1/runs/:id/blobs → each blob with createdAt and expiredAt
 *   GET /api/v1/reports/:id/attachments/:attachmentId → the bytes (local store) or a 302 to a
 *       5-minute presigned URL (S3); 410 `blob_expired` once the lifecycle job removed it.
 */
export function registerRetentionRoutes(router: Router, deps: RetentionRouteDeps): void {
  const verifyKey = (req: IncomingMessage) => deps.verifyKey(bearerOf(req), req);

  router.add('GET', '/api/v1/retention', async (req, res) => {
    const key = await verifyKey(req);
    const settings = await getRetentionSettings(deps.db, key.orgId);
    if (!settings) throw new UserzError('org_not_found', 'No such org');
    sendJson(res, 200, settings);
  });

  router.add('PUT', '/api/v1/retention', async (req, res) => {
    const key = await verifyKey(req);
    const { days } = await readInput(req, OrgRetention);
    await setOrgRetention(deps.db, key.orgId, days, `api_key:${key.id}`);
    sendJson(res, 200, { days });
  });

  router.add('PUT', '/api/v1/apps/:id/retention', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const { retained } = await readInput(req, AppRetention);
    await setAppRetained(deps.db, key.orgId, params.id!, retained, `api_key:${key.id}`);
    sendJson(res, 200, { id: params.id, retained });
  });

  router.add('PUT', '/api/v1/reports/:id/retention', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const { retained } = await readInput(req, ReportOrRunRetention);
    if (!(await setReportRetention(deps.db, key.orgId, params.id!, retained))) throw new UserzError('report_not_found', 'No such report');
    await audit(deps.db, key, 'report.retention_set', params.id!, { retained });
    sendJson(res, 200, { id: params.id, retained, blobs: (await listBlobsOfReport(deps.db, params.id!)).map(blobView) });
  });

  router.add('PUT', '/api/v1/runs/:id/retention', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const { retained } = await readInput(req, ReportOrRunRetention);
    if (!(await setRunRetention(deps.db, key.orgId, params.id!, retained))) throw new UserzError('run_not_found', 'No such run');
    await audit(deps.db, key, 'run.retention_set', params.id!, { retained });
    sendJson(res, 200, { id: params.id, retained, blobs: (await listBlobsOfRun(deps.db, params.id!)).map(blobView) });
  });

  router.add('GET', '/api/v1/reports/:id/blobs', async (req, res, { params }) => {
    const key = await verifyKey(req);
    if ((await getReportAttachments(deps.db, key.orgId, params.id!)) === null) throw new UserzError('report_not_found', 'No such report');
    sendJson(res, 200, { blobs: (await listBlobsOfReport(deps.db, params.id!)).map(blobView) });
  });

  router.add('GET', '/api/v1/runs/:id/blobs', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const blobs = await listBlobsOfRun(deps.db, params.id!);
    if (blobs.some((b) => b.orgId !== key.orgId)) throw new UserzError('run_not_found', 'No such run');
    sendJson(res, 200, { blobs: blobs.map(blobView) });
  });

  router.add('GET', '/api/v1/reports/:id/attachments/:attachmentId', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const attachments = await getReportAttachments(deps.db, key.orgId, params.id!);
    const attachment = attachments?.find((a) => a.id === params.attachmentId);
    if (!attachment) throw new UserzError('report_not_found', 'No such report or attachment');
    const row = await getBlobRow(deps.db, attachment.blobKey);
    if (row?.expiredAt) return sendExpired(res, row.expiredAt);
    const url = await deps.blobs.presignGet(attachment.blobKey, ATTACHMENT_LINK_SECONDS);
    if (url) {
      res.writeHead(302, { location: url, 'cache-control': 'no-store' }).end();
      return;
    }
    const data = await deps.blobs.get(attachment.blobKey);
    if (!data) return sendExpired(res, null);
    res.writeHead(200, {
      // Served as a download, never rendered on our origin: the bytes came from a stranger.
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment',
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
      'content-length': data.length,
    });
    res.end(data);
  });
}

function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

function blobView(b: BlobRow) {
  return { key: b.key, kind: b.kind, createdAt: b.createdAt.toISOString(), expired: b.expiredAt !== null, expiredAt: b.expiredAt?.toISOString() ?? null };
}

function sendExpired(res: ServerResponse, at: Date | null): void {
  sendJson(res, 410, {
    error: {
      code: 'blob_expired',
      message: at ? `This file expired on ${at.toISOString().slice(0, 10)} under the org's retention` : 'This file is no longer stored',
    },
  });
}

async function readInput<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(parseJson(await readBody(req, 4096)));
  if (!parsed.success)
    throw new UserzError('invalid_input', `Invalid body: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  return parsed.data;
}

function audit(db: Db, key: VerifiedApiKey, action: string, subject: string, data: Record<string, string | number | boolean | null>) {
  return recordAudit(db, { actor: `api_key:${key.id}`, action, orgId: key.orgId, subject, data });
}
