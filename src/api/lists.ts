import { z } from 'zod';
import { UserzError } from '../errors.js';
import { getBatchOfOrg, getRepoOfOrg, listBatches, listReposPage, listRuns, type Db } from '../store/index.js';
import type { ApiRoutes } from './route.js';
import { BatchView, batchView, idQuery, pageOf, pageQuery, RepoView, repoView, RUN_STATE_VALUES, RunView, runView, sinceQuery } from './schemas.js';

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

/** The read-only lists and single reads of runs, batches and repositories (`read`). */
export function registerListRoutes(api: ApiRoutes, deps: { db: Db }): void {
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
