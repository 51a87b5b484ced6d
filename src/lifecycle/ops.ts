import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import type { Operation, OpsDeps } from '../ops/index.js';
import { resolveOrg, type BlobStore, type ErasureSubject } from '../store/index.js';
import { eraseSubject, previewErasure } from './erase.js';
import { exportOrg } from './export.js';

const DeleteInput = z
  .object({
    org: z.string().min(1).optional(),
    app: z.string().min(1).optional(),
    reporter: z.string().trim().min(1).max(320).optional(),
    /** Without it, only counts what would go. */
    confirm: z.boolean().default(false),
  })
  .strict()
  .refine((v) => (v.app ? 1 : 0) + (v.reporter ? 1 : 0) + (v.org && !v.reporter ? 1 : 0) === 1, {
    message: 'name exactly one subject: --org ID, --app ID or --reporter ID-or-email (with --org to narrow a reporter to one org)',
  });

function blobsOf(deps: OpsDeps): BlobStore {
  if (!deps.blobs) throw new UserzError('invalid_input', 'This operation needs the blob store');
  return deps.blobs;
}

const dataDelete: Operation<z.infer<typeof DeleteInput>> = {
  input: DeleteInput,
  async run(deps, input) {
    const subject: ErasureSubject = input.reporter
      ? { kind: 'reporter', reporter: input.reporter, orgId: input.org }
      : input.app
        ? { kind: 'app', appId: input.app }
        : { kind: 'org', orgId: input.org! };
    const preview = await previewErasure(deps.db, subject);
    if (!preview) throw subject.kind === 'app' ? new UserzError('app_not_found', 'No such App') : new UserzError('org_not_found', 'No such org');
    if (!input.confirm) return { deleted: false, wouldDelete: preview };
    const result = await eraseSubject({ db: deps.db, blobs: blobsOf(deps), forgetCache: deps.forgetErasedCache }, subject, 'cli');
    return { deleted: true, ...result };
  },
};

const dataExport: Operation<{ org: string; out: string }> = {
  input: z
    .object({ org: z.string().min(1), out: z.string().min(1) })
    .strict()
    .refine((v) => isAbsolute(v.out), { message: 'out must be an absolute path' }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    return exportOrg({ db: deps.db, blobs: blobsOf(deps) }, org.id, input.out).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UserzError('invalid_input', 'The export file already exists; choose a new name');
      throw e;
    });
  },
};

/** Deletion on request and export, offered through the CLI / admin-endpoint path. */
export const LIFECYCLE_OPS: Record<string, Operation> = {
  'data.delete': dataDelete as Operation,
  'data.export': dataExport as Operation,
};
