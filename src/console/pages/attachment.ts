import type { ServerResponse } from 'node:http';
import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { getBlobRow, getReportAttachments } from '../../store/index.js';
import { requirePermission } from '../../tenant/index.js';
import { addMemberPage, sendErrorPage } from '../page-route.js';
import type { ConsolePagesDeps } from './deps.js';

/**
 * GET /reports/:id/attachments/:attachmentId : a screenshot or attachment, to signed-in
 * members of the report's org only. The blob is found by the report's own record (never a
 * path the request or the report names), read through the server from the private store,
 * and served with a type we checked: an image only when its bytes are that image, text as
 * text/plain, anything else as a download; always nosniff, a Content-Disposition and a
 * sandboxing CSP, so nothing a stranger uploaded runs on the console's origin.
 */
export function registerAttachmentRoute(router: Router, deps: ConsolePagesDeps): void {
  addMemberPage(router, deps.auth, '/reports/:id/attachments/:attachmentId', async ({ res, url, params, session, principal }) => {
    requirePermission(principal, 'read');
    const attachments = await getReportAttachments(deps.db, principal.orgId, params.id!);
    const attachment = attachments?.find((a) => a.id === params.attachmentId);
    if (!attachment) throw new UserzError('report_not_found', 'No such report or attachment in this organization');
    const row = await getBlobRow(deps.db, attachment.blobKey);
    const data = row?.expiredAt ? null : await deps.blobs.get(attachment.blobKey);
    if (!data) {
      const when = row?.expiredAt ? ` on ${row.expiredAt.toISOString().slice(0, 10)} under the org's retention` : '';
      return sendErrorPage(res, session, 410, 'Expired', `This file expired${when}; it is no longer stored.`);
    }
    sendAttachment(res, data, attachment, url.searchParams.has('download'));
  });
}

/** The image types a browser may render inline from the console (the widget's screenshot is PNG). */
const IMAGE_MAGIC: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

export function isInlineImage(contentType: string): boolean {
  return contentType in IMAGE_MAGIC;
}

/** The type we serve: the declared image type when the bytes are that image; text as plain text; else bytes. */
export function checkedContentType(declared: string, data: Buffer): { type: string; inline: boolean } {
  const magic = IMAGE_MAGIC[declared];
  if (magic) return magic(data) ? { type: declared, inline: true } : { type: 'application/octet-stream', inline: false };
  if (declared === 'text/plain' || declared === 'application/json') return { type: 'text/plain; charset=utf-8', inline: false };
  return { type: 'application/octet-stream', inline: false };
}

/** A file name for Content-Disposition: the reporter's name reduced to safe characters, plus an RFC 5987 UTF-8 form. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string, fallback: string): string {
  const ascii =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 100) || fallback;
  const utf8 = encodeURIComponent(name.slice(0, 200)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

function sendAttachment(res: ServerResponse, data: Buffer, a: { id: string; name: string; contentType: string }, download: boolean): void {
  const checked = checkedContentType(a.contentType, data);
  res.writeHead(200, {
    'content-type': checked.type,
    'content-length': data.length,
    'content-disposition': contentDisposition(checked.inline && !download ? 'inline' : 'attachment', a.name, a.id),
    'x-content-type-options': 'nosniff',
    // Opened on its own, the file is a sandboxed document that may load nothing (the browser's
    // own image viewer styles itself inline: allowed for an image, which cannot run script).
    'content-security-policy': checked.inline ? "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox" : "default-src 'none'; sandbox",
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'cache-control': 'private, no-store',
  });
  res.end(data);
}
