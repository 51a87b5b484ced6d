import { z } from 'zod';
import type { ApiRoutes } from '../api/index.js';
import { UserzError } from '../errors.js';
import { getApp, type BlobStore, type Db, type ErasureSubject } from '../store/index.js';
import { eraseSubject, previewErasure, type ForgetErasedCache } from './erase.js';

const DeleteBody = z
  .object({
    subject: z.union([
      z.object({ org: z.string().min(1).max(200) }).strict(),
      z.object({ app: z.string().min(1).max(200) }).strict(),
      z.object({ reporter: z.string().trim().min(1).max(320).describe("The reporter's id or email, within this org") }).strict(),
    ]),
    dryRun: z.boolean().default(false).describe('Only count what would be deleted'),
  })
  .strict();

const Counts = z.record(z.string(), z.number().int());

/**
 * Deletion on request (issue 15) with an `admin` key: the org itself, one of its Apps, or one
 * reporter within it, through the same erasure as `userz data delete`, which writes the one
 * audit event (who, what kind, counts, never the reporter's identifiers).
 */
export function registerEraseRoute(api: ApiRoutes, deps: { db: Db; blobs: BlobStore; forgetCache?: ForgetErasedCache }): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/data/delete',
      operationId: 'deleteData',
      tag: 'Data',
      summary: 'Delete every row and file of the org, an App or a reporter',
      description:
        'Reports, attachments, run logs, change sets, batches, secrets, keys and chat links of the subject go; with `dryRun` only the counts are answered. Deleting the org deletes this key too.',
      permission: 'erase',
      body: { schema: DeleteBody },
      responses: {
        200: z.object({
          deleted: z.boolean(),
          subject: z.enum(['org', 'app', 'reporter']),
          counts: Counts,
        }),
      },
      errors: ['org_not_found', 'app_not_found'],
    })
    .handle(async ({ principal, body }) => {
      const s = body.subject;
      let subject: ErasureSubject;
      if ('org' in s) {
        // Another org's id is answered as if it did not exist.
        if (s.org !== principal.orgId) throw new UserzError('org_not_found', 'No such org');
        subject = { kind: 'org', orgId: principal.orgId };
      } else if ('app' in s) {
        const app = await getApp(deps.db, s.app);
        if (!app || app.orgId !== principal.orgId) throw new UserzError('app_not_found', `No App with id ${s.app}`);
        subject = { kind: 'app', appId: app.id };
      } else {
        subject = { kind: 'reporter', reporter: s.reporter, orgId: principal.orgId };
      }
      if (body.dryRun) {
        const preview = await previewErasure(deps.db, subject);
        if (!preview) throw new UserzError('org_not_found', 'No such org');
        return { status: 200, body: { deleted: false, subject: subject.kind, counts: preview } };
      }
      const result = await eraseSubject(deps, subject, principal.actor);
      return { status: 200, body: { deleted: true, subject: result.subject, counts: { ...result.counts } } };
    });
}
