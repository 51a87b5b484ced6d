import { UserzError } from '../../errors.js';
import { addGitLabProject, createInstallLink } from '../../forge/index.js';
import type { Router } from '../../http/index.js';
import { listOrgInstallations, listRepoPolicies, listReposPage, pageLimit, type RepoListItem, type RepoPolicySnapshot } from '../../store/index.js';
import { can, requirePermission } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { badge, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import { csrfField, shownOnce, type AdminPagesDeps } from './admin-deps.js';

function repoState(r: RepoListItem): Html {
  if (r.removedAt) return badge('removed');
  if (r.suspendedAt) return badge('suspended');
  return html`<span class="state good">active</span>`;
}

/** The policy as the last run read it from the default branch (its base commit); runs always read it afresh. */
function policyCell(r: RepoListItem, p: RepoPolicySnapshot | undefined): Html {
  if (!p) return html`<span class="muted">Not read yet: a run reads <code>.userz.yml</code> from <code>${r.defaultBranch}</code>.</span>`;
  const at = html`<span class="muted"
    >Read from <code>${r.defaultBranch}</code> ${time(p.readAt)} at commit <span class="mono">${p.baseCommit.slice(0, 12)}</span>.</span
  >`;
  if (p.policyText === null) return html`${at} <span class="muted">No <code>.userz.yml</code>: the default rules apply.</span>`;
  return html`${at}
    <details>
      <summary><code>.userz.yml</code></summary>
      <pre>${p.policyText}</pre>
    </details>`;
}

function repoTable(caption: string, repos: RepoListItem[], policies: Map<string, RepoPolicySnapshot>): Html {
  return html`<table>
    <caption class="muted">
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">Repository</th>
        <th scope="col">Default branch</th>
        <th scope="col">State</th>
        <th scope="col">Policy</th>
        <th scope="col">Repository id</th>
      </tr>
    </thead>
    <tbody>
      ${repos.map(
        (r) =>
          html`<tr>
            <td>${r.fullName}${r.baseUrl ? html` <span class="muted">on ${r.baseUrl}</span>` : ''}</td>
            <td class="mono">${r.defaultBranch}</td>
            <td>${repoState(r)}</td>
            <td>${policyCell(r, policies.get(r.id))}</td>
            <td class="mono">${r.id}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * GET /repos: the org's GitHub installations with their repositories, its GitLab projects,
 * and each repository's policy as far as it is stored (nothing is fetched from a forge to
 * draw a page). POST /repos/github-install-link gives a single-use install link;
 * POST /repos/gitlab adds a project with a token that is checked once, stored encrypted and
 * never shown again. Changes need `edit` (owners and admins).
 */
export function registerRepoPages(router: Router, deps: AdminPagesDeps): void {
  const { auth } = deps;

  addMemberPage(router, auth, '/repos', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const cursor = url.searchParams.get('cursor') || null;
    const [page, installations, policies] = await Promise.all([
      listReposPage(deps.db, principal.orgId, {}, { cursor, limit: pageLimit(url.searchParams.get('limit'), 100) }),
      listOrgInstallations(deps.db, principal.orgId),
      listRepoPolicies(deps.db, principal.orgId),
    ]);
    const github = page.items.filter((r) => r.forge === 'github');
    const gitlab = page.items.filter((r) => r.forge === 'gitlab');
    const installationIds = [
      ...new Set([...installations.map((i) => i.installationId), ...github.flatMap((r) => (r.installationId ? [r.installationId] : []))]),
    ];
    const body = html`
      <section aria-labelledby="github-h">
        <h2 id="github-h">GitHub</h2>
        ${installationIds.length === 0 ? html`<p class="muted">No GitHub installation is linked to this organization.</p>` : ''}
        ${installationIds.map((id) => {
          const linked = installations.find((i) => i.installationId === id);
          const repos = github.filter((r) => r.installationId === id);
          return html`<h3>Installation <span class="mono">${id}</span></h3>
            ${linked ? html`<p class="muted">Linked ${time(linked.linkedAt)} by ${linked.linkedBy}.</p>` : ''}
            ${repos.length ? repoTable(`Repositories of installation ${id}`, repos, policies) : html`<p class="muted">No repositories from this installation yet.</p>`}`;
        })}
        ${can(principal, 'edit') ? installForm(deps, session) : ''}
      </section>
      <section aria-labelledby="gitlab-h">
        <h2 id="gitlab-h">GitLab</h2>
        ${gitlab.length ? repoTable('GitLab projects', gitlab, policies) : html`<p class="muted">No GitLab project is registered.</p>`}
        ${can(principal, 'edit') ? gitlabForm(session) : html`<p class="muted">Owners and admins add repositories.</p>`}
      </section>
      <nav class="pager" aria-label="Pages">
        ${page.nextCursor ? html`<a href="${href('/repos', { cursor: page.nextCursor })}" rel="next">More repositories</a>` : ''}
      </nav>
    `;
    sendPage(res, 200, layout({ title: 'Repositories', session, active: '/repos', body }));
  });

  addMemberAction(router, auth, '/repos/github-install-link', async ({ res, session, principal }) => {
    requirePermission(principal, 'edit');
    const link = await createInstallLink(
      { db: deps.db, log: deps.log, install: deps.github.install, apiBaseUrl: deps.github.apiBaseUrl },
      principal.orgId,
      principal.actor,
    );
    const body = html`<p>
        This link installs the Userz GitHub App and links the installation to this organization. It works once, until ${time(link.expiresAt)}.
      </p>
      <p><a class="button" href="${link.url}">Continue to GitHub</a></p>
      <p><a href="/repos">Back to the repositories</a></p>`;
    sendPage(res, 201, layout({ title: 'Install on GitHub', session, active: '/repos', body }));
  });

  addMemberAction(router, auth, '/repos/gitlab', async ({ res, session, principal, form }) => {
    requirePermission(principal, 'edit');
    const project = (form.get('project') ?? '').trim();
    const token = form.get('token') ?? '';
    const baseUrl = (form.get('baseUrl') ?? '').trim() || undefined;
    if (!project || !token) throw new UserzError('invalid_input', 'A GitLab project (path or id) and a token are both needed');
    if (baseUrl && !/^https?:\/\//i.test(baseUrl)) throw new UserzError('invalid_input', 'The GitLab URL must start with https://');
    const added = await addGitLabProject(deps, { orgId: principal.orgId, project, token, baseUrl, actor: principal.actor });
    deps.log.info({ orgId: principal.orgId, repoId: added.repoId }, 'GitLab project added in the console');
    const body = html`<p class="notice" role="status">
        ${added.fullName} is registered (default branch <code>${added.defaultBranch}</code>). The token is stored encrypted and is never shown again.
      </p>
      <p>In GitLab, add a webhook (Settings → Webhooks) for merge request events with this URL and secret token:</p>
      <pre id="webhook-url">${deps.publicUrl}${added.webhookPath}</pre>
      <button type="button" data-copy="webhook-url">Copy</button>
      ${shownOnce('webhook-secret', 'Webhook secret token', added.webhookSecret)}
      <p><a href="/repos">Back to the repositories</a></p>`;
    sendPage(res, 201, layout({ title: 'GitLab project added', session, active: '/repos', body }));
  });
}

function installForm(deps: AdminPagesDeps, session: ConsoleSession): Html {
  if (!deps.github.install)
    return html`<p class="muted">GitHub install links are not configured on this server (GITHUB_APP_SLUG, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET).</p>`;
  return html`<form method="post" action="/repos/github-install-link">
    ${csrfField(session)}
    <button type="submit" class="primary">Install on GitHub</button>
    <span class="muted">Choose the repositories on GitHub; they appear here once GitHub confirms the installation.</span>
  </form>`;
}

function gitlabForm(session: ConsoleSession): Html {
  return html`<form method="post" action="/repos/gitlab" autocomplete="off">
    ${csrfField(session)}
    <h3>Add a GitLab project</h3>
    <label for="gl-project">Project path or id</label>
    <input type="text" id="gl-project" name="project" required placeholder="group/project" size="40" />
    <label for="gl-token">Project access token</label>
    <input type="password" id="gl-token" name="token" required aria-describedby="gl-token-help" size="40" />
    <p id="gl-token-help" class="muted">Scope <code>api</code>, role Developer or higher. It is checked once, stored encrypted and never shown again.</p>
    <label for="gl-base">GitLab URL (self-managed only)</label>
    <input type="url" id="gl-base" name="baseUrl" placeholder="https://gitlab.example.com" size="40" />
    <p><button type="submit" class="primary">Add project</button></p>
  </form>`;
}
