import { z } from 'zod';
import { RepoView, repoView, type ApiRoutes } from '../../api/index.js';
import { UserzError } from '../../errors.js';
import type { Vault } from '../../security/index.js';
import { deleteSecretRow, getRepo, getRepoOfOrg, lockGitLabProjectOwner, markReposRemoved, type Db } from '../../store/index.js';
import { addGitLabProject } from './ops.js';

const AddGitLabProjectBody = z
  .object({
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .optional()
      .describe('Self-managed GitLab only: the instance URL (https://gitlab.example.com); omit for gitlab.com'),
    projectId: z.number().int().positive().optional().describe("The project's numeric id; give this or path"),
    path: z.string().trim().min(1).max(255).optional().describe('The project path (group/project); give this or projectId'),
    token: z
      .string()
      .min(1)
      .max(500)
      .describe('A project access token with the api scope and Developer access or higher. Checked once, stored encrypted, never returned'),
  })
  .strict()
  .refine((b) => (b.projectId === undefined) !== (b.path === undefined), { message: 'Give exactly one of projectId and path' });

const AddedGitLabProjectView = z.object({
  repo: RepoView,
  webhookUrl: z.string().describe("Paste into the project's GitLab webhook settings (merge request and note events)"),
  webhookSecret: z.string().describe("The webhook's secret token. Shown once, never again"),
});

const notFound = () => new UserzError('repo_not_found', 'No such repository');

/**
 * Repository mutations (`edit`): register a GitLab project through the same
 * `addGitLabProject` as the console's /repos form and `userz repos add-gitlab`, and unlink one.
 * GitHub repositories come and go with the GitHub App's installation, not through here.
 */
export function registerGitLabApiRoutes(api: ApiRoutes, deps: { db: Db; vault: Vault; publicUrl: string }): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/gitlab/projects',
      operationId: 'addGitLabProject',
      tag: 'Repositories',
      summary: 'Register a GitLab project; its webhook secret is in this answer only',
      description:
        'The token is checked once against the project (api scope, Developer access), then stored encrypted; no answer ever holds it. ' +
        'Registering a project the org already has replaces its token and webhook secret.',
      permission: 'edit',
      body: { schema: AddGitLabProjectBody },
      responses: { 201: AddedGitLabProjectView },
      errors: ['gitlab_token_invalid', 'gitlab_token_scope', 'gitlab_project_not_found', 'gitlab_access_too_low', 'gitlab_project_empty', 'repo_in_other_org'],
    })
    .handle(async ({ principal, body, log }) => {
      const project = body.path ?? String(body.projectId);
      const added = await addGitLabProject(deps, { orgId: principal.orgId, project, token: body.token, baseUrl: body.baseUrl, actor: principal.actor });
      log.info({ orgId: principal.orgId, repoId: added.repoId }, 'GitLab project added through the API');
      const repo = await getRepoOfOrg(deps.db, principal.orgId, added.repoId);
      if (!repo) throw notFound();
      return {
        status: 201,
        body: { repo: repoView(repo), webhookUrl: `${deps.publicUrl}${added.webhookPath}`, webhookSecret: added.webhookSecret },
        headers: { 'cache-control': 'no-store' },
      };
    });

  api
    .add({
      method: 'DELETE',
      path: '/api/v1/repos/:id',
      operationId: 'unlinkGitLabProject',
      tag: 'Repositories',
      summary: 'Unlink a GitLab project: marked removed, its token and webhook secret deleted',
      description:
        'The repository row stays for history (runs link to it), with removedAt set; its webhooks are refused from now on. ' +
        'Unlinking an unlinked project answers it again. Registering it again links it anew. GitHub repositories are removed from the installation on GitHub.',
      permission: 'edit',
      responses: { 200: RepoView },
      errors: ['repo_not_found', 'repo_not_gitlab'],
    })
    .handle(async ({ principal, params }) => {
      const orgId = principal.orgId;
      await deps.db.transaction(async (tx) => {
        const found = await getRepo(tx, params.id!);
        if (!found || found.orgId !== orgId) throw notFound();
        if (found.forge !== 'gitlab')
          throw new UserzError('repo_not_gitlab', 'Only GitLab projects are unlinked here; remove a GitHub repository from the installation on GitHub');
        // Serialised with a registration of the same project (addGitLabProject takes this lock).
        await lockGitLabProjectOwner(tx, found.baseUrl, found.externalId);
        const repo = await getRepo(tx, found.id);
        if (!repo || repo.orgId !== orgId) throw notFound();
        await markReposRemoved(tx, 'gitlab', [repo.externalId], principal.actor, repo.baseUrl);
        for (const secretId of [repo.tokenSecretId, repo.webhookSecretId]) if (secretId) await deleteSecretRow(tx, orgId, secretId);
      });
      const repo = await getRepoOfOrg(deps.db, orgId, params.id!);
      if (!repo) throw notFound();
      return { status: 200, body: repoView(repo) };
    });
}
