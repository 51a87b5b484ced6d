import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import type { ChatLinkCode, CreatedApp } from '../../intake/index.js';
import { listReposPage, type App, type RepoListItem } from '../../store/index.js';
import { can, requirePermission, type Principal } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { time } from '../format.js';
import { html, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import { csrfField, shownOnce, type AdminPagesDeps } from './admin-deps.js';

/** One origin a line (or separated by spaces or commas), as the form's textarea gives them. */
function originsOf(raw: string | null): string[] {
  return (raw ?? '')
    .split(/[\s,]+/)
    .map((o) => o.trim())
    .filter((o) => o !== '');
}

function snippet(publicUrl: string, publicKey: string): string {
  return `<script src="${publicUrl}/widget.js" data-userz-key="${publicKey}" async></script>`;
}

/** Private mode: the host product's backend signs a short-lived token per signed-in user. */
function privateRecipe(publicUrl: string, app: App): string {
  return `// On your server (Node, with the jose package). USERZ_SIGNING_SECRET is this App's signing secret.
import { SignJWT } from 'jose';

const secret = new TextEncoder().encode(process.env.USERZ_SIGNING_SECRET);
export function userzToken(user) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience('${app.id}')
    .setSubject(String(user.id))
    .setIssuedAt()
    .setExpirationTime('1h') // at most 24 h
    .sign(secret);
}

<!-- In the page you render for that user: -->
<script src="${publicUrl}/widget.js" data-userz-key="${app.publicKey}" data-user-token="TOKEN_FROM_userzToken" async></script>`;
}

/** A `<pre>` with its Copy button. */
function copyable(id: string, text: string): Html {
  return html`<pre id="${id}">${text}</pre>
    <button type="button" data-copy="${id}">Copy</button>`;
}

function appForm(session: ConsoleSession, action: string, app: App | null, repos: RepoListItem[] | null = null): Html {
  return html`<form method="post" action="${action}">
    ${csrfField(session)}
    <label for="app-name">Name</label>
    <input type="text" id="app-name" name="name" required maxlength="200" value="${app?.name ?? ''}" />
    <label for="app-origins">Allowed origins</label>
    <textarea id="app-origins" name="origins" rows="4" cols="50" aria-describedby="app-origins-help">${(app?.origins ?? []).join('\n')}</textarea>
    <p id="app-origins-help" class="muted">
      One per line, as <code>https://shop.example</code> (scheme, host and port; no path). Pages on these origins may post reports with the public key.
    </p>
    ${
      repos
        ? html`<label for="app-repo">Repository</label>
            <select id="app-repo" name="repoId" aria-describedby="app-repo-help">
              <option value="">None (reports are triaged, no run starts)</option>
              ${app?.repoId && !repos.some((r) => r.id === app.repoId) ? html`<option value="${app.repoId}" selected>${app.repoId} (not active)</option>` : ''}
              ${repos.map((r) => html`<option value="${r.id}" ${app?.repoId === r.id ? html`selected` : ''}>${r.fullName} (${r.forge})</option>`)}
            </select>
            <p id="app-repo-help" class="muted">
              Where this App's runs open their draft pull requests. Repositories are added on the <a href="/repos">Repositories</a> page.
            </p>`
        : ''
    }
    <button type="submit" class="primary">${app ? 'Save' : 'Create App'}</button>
  </form>`;
}

/**
 * GET /apps, POST /apps, GET /apps/:id and its forms: edit, rotate the signing secret, link
 * Slack (install button or link code) and Discord (link code), unlink. Members read; owners
 * and admins change (`edit`). Every change goes through AppAdmin, as the App API's do.
 */
export function registerAppPages(router: Router, deps: AdminPagesDeps): void {
  const { auth, appAdmin } = deps;

  addMemberPage(router, auth, '/apps', async ({ res, session, principal }) => {
    requirePermission(principal, 'read');
    const apps = await appAdmin.list(principal.orgId);
    const body = html`
      ${
        apps.length === 0
          ? html`<p class="notice">No Apps yet. An App is one product of yours: its widget key, the origins that may use it, and its chat links.</p>`
          : html`<table>
              <caption class="muted">
                Apps of this organization
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Public key</th>
                  <th scope="col">Origins</th>
                  <th scope="col">Chat</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                ${apps.map(
                  (a) =>
                    html`<tr>
                      <td><a href="/apps/${a.id}">${a.name}</a></td>
                      <td class="mono">${a.publicKey}</td>
                      <td>${a.origins.length === 0 ? html`<span class="muted">none</span>` : a.origins.join(', ')}</td>
                      <td>
                        ${[a.slackTeamId ? 'Slack' : '', a.discordGuildId ? 'Discord' : ''].filter(Boolean).join(', ') || html`<span class="muted">—</span>`}
                      </td>
                      <td>${time(a.createdAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      ${
        can(principal, 'edit')
          ? html`<section aria-labelledby="new-app">
              <h2 id="new-app">New App</h2>
              ${appForm(session, '/apps', null)}
            </section>`
          : html`<p class="muted">Owners and admins create and edit Apps.</p>`
      }
    `;
    sendPage(res, 200, layout({ title: 'Apps', session, active: '/apps', body }));
  });

  addMemberAction(router, auth, '/apps', async ({ res, session, principal, form }) => {
    requirePermission(principal, 'edit');
    const created = await appAdmin.create({
      orgId: principal.orgId,
      name: form.get('name') ?? '',
      origins: originsOf(form.get('origins')),
      actor: principal.actor,
    });
    sendPage(res, 201, layout({ title: `App ${created.app.name} created`, session, active: '/apps', body: createdBody(deps, created) }));
  });

  addMemberPage(router, auth, '/apps/:id', async ({ res, url, session, principal, params }) => {
    requirePermission(principal, 'read');
    const app = await appAdmin.get(principal.orgId, params.id!);
    const slackUrl = can(principal, 'edit') && appAdmin.slackInstallConfigured ? await appAdmin.slackInstallUrl(principal.orgId, app.id) : null;
    const unlinked = url.searchParams.get('unlinked');
    const notice = url.searchParams.has('saved')
      ? html`<p class="notice" role="status">Saved.</p>`
      : unlinked === 'slack' || unlinked === 'discord'
        ? html`<p class="notice" role="status">${unlinked === 'slack' ? 'Slack' : 'Discord'} unlinked.</p>`
        : '';
    const repos = can(principal, 'edit') ? (await listReposPage(deps.db, principal.orgId, { active: true }, { limit: 100 })).items : [];
    const body = html`${notice}${appBody(deps, session, principal, app, slackUrl, repos)}`;
    sendPage(res, 200, layout({ title: app.name, session, active: '/apps', body }));
  });

  addMemberAction(router, auth, '/apps/:id', async ({ res, principal, params, form }) => {
    requirePermission(principal, 'edit');
    // An absent repoId leaves the link as it is; an empty one unlinks.
    const repoId = form.has('repoId') ? form.get('repoId') || null : undefined;
    await appAdmin.update(
      principal.orgId,
      params.id!,
      { name: form.get('name') ?? undefined, origins: originsOf(form.get('origins')), repoId },
      principal.actor,
    );
    redirect(res, `/apps/${encodeURIComponent(params.id!)}?saved=1`);
  });

  addMemberAction(router, auth, '/apps/:id/rotate-secret', async ({ res, session, principal, params }) => {
    requirePermission(principal, 'edit');
    const { app, signingSecret } = await appAdmin.rotateSigningSecret(principal.orgId, params.id!, principal.actor);
    const body = html`<p class="notice" role="status">A new signing secret is in use. Tokens signed with the old one are refused from now on.</p>
      ${shownOnce('signing-secret', 'Signing secret', signingSecret)}
      <p><a href="/apps/${app.id}">Back to ${app.name}</a></p>`;
    sendPage(res, 200, layout({ title: `New signing secret for ${app.name}`, session, active: '/apps', body }));
  });

  addMemberAction(router, auth, '/apps/:id/link-code', async ({ res, session, principal, params, form }) => {
    requirePermission(principal, 'edit');
    const provider = form.get('provider');
    if (provider !== 'slack' && provider !== 'discord') throw new UserzError('invalid_input', 'provider must be slack or discord');
    const app = await appAdmin.get(principal.orgId, params.id!);
    const code = await appAdmin.createLinkCode(principal.orgId, app.id, provider, principal.actor);
    sendPage(
      res,
      201,
      layout({ title: `Link ${provider === 'slack' ? 'Slack' : 'Discord'} to ${app.name}`, session, active: '/apps', body: linkCodeBody(app, code) }),
    );
  });

  addMemberAction(router, auth, '/apps/:id/unlink', async ({ res, principal, params, form }) => {
    requirePermission(principal, 'edit');
    const provider = form.get('provider');
    if (provider !== 'slack' && provider !== 'discord') throw new UserzError('invalid_input', 'provider must be slack or discord');
    await appAdmin.update(principal.orgId, params.id!, provider === 'slack' ? { slack: null } : { discord: null }, principal.actor);
    redirect(res, `/apps/${encodeURIComponent(params.id!)}?unlinked=${provider}`);
  });
}

function createdBody(deps: AdminPagesDeps, created: CreatedApp): Html {
  const { app } = created;
  return html`<p class="notice" role="status">The App is ready. Put the snippet on your pages; keep the signing secret on your server.</p>
    <h2>Widget snippet</h2>
    ${copyable('snippet', snippet(deps.publicUrl, created.publicKey))} ${shownOnce('signing-secret', 'Signing secret (private mode)', created.signingSecret)}
    <p><a href="/apps/${app.id}">Open ${app.name}</a></p>`;
}

function linkCodeBody(app: App, code: ChatLinkCode): Html {
  const where = code.provider === 'slack' ? 'any channel of the Slack workspace' : 'the Discord server (as someone who may manage it)';
  return html`<p>Send this command in ${where} before ${time(code.expiresAt)}. The code works once.</p>
    ${shownOnce('link-command', 'Command', code.command)}
    <p><a href="/apps/${app.id}">Back to ${app.name}</a></p>`;
}

function appBody(deps: AdminPagesDeps, session: ConsoleSession, principal: Principal, app: App, slackUrl: string | null, repos: RepoListItem[]): Html {
  const edit = can(principal, 'edit');
  const codes = deps.appAdmin.linkCodeProviders();
  return html`
    <dl class="facts">
      <dt>App id</dt>
      <dd class="mono">${app.id}</dd>
      <dt>Public key</dt>
      <dd class="mono">${app.publicKey}</dd>
      <dt>Created</dt>
      <dd>${time(app.createdAt)}</dd>
    </dl>
    <section aria-labelledby="snippet-h">
      <h2 id="snippet-h">Widget snippet</h2>
      <p>Put this tag on the pages of the allowed origins (public mode).</p>
      ${copyable('snippet', snippet(deps.publicUrl, app.publicKey))}
    </section>
    <section aria-labelledby="private-h">
      <h2 id="private-h">Private mode</h2>
      <p>
        Where your users sign in, prefer private mode: your backend signs a short-lived token (HS256, <code>aud</code> = the App id, <code>sub</code> = the
        user, <code>exp</code> at most 24 hours ahead) with this App's signing secret, and reports are tied to that user.
      </p>
      ${copyable('recipe', privateRecipe(deps.publicUrl, app))}
      ${
        edit
          ? html`<form method="post" action="/apps/${app.id}/rotate-secret">
              ${csrfField(session)}
              <p>Lost the signing secret, or it leaked? A new one replaces it at once; tokens signed with the old one stop working.</p>
              <button type="submit" class="danger">Rotate signing secret</button>
            </form>`
          : ''
      }
    </section>
    ${
      edit
        ? html`<section aria-labelledby="edit-h">
            <h2 id="edit-h">Name, origins and repository</h2>
            ${appForm(session, `/apps/${app.id}`, app, repos)}
          </section>`
        : html`<h2>Origins</h2>
            <p>${app.origins.length ? app.origins.join(', ') : 'None'}</p>`
    }
    <section aria-labelledby="chat-h">
      <h2 id="chat-h">Chat</h2>
      <h3>Slack</h3>
      ${
        app.slackTeamId
          ? html`<p>
                Linked to workspace
                <span class="mono">${app.slackTeamId}</span>${app.slackChannelId ? html`, channel <span class="mono">${app.slackChannelId}</span>` : ''}.
              </p>
              ${edit ? unlinkForm(session, app, 'slack') : ''}`
          : html`<p class="muted">No Slack workspace linked.</p>`
      }
      ${edit && slackUrl ? html`<p><a class="button" href="${slackUrl}">Add to Slack</a></p>` : ''}
      ${edit && codes.includes('slack') ? linkCodeForm(session, app, 'slack') : ''}
      ${!slackUrl && !codes.includes('slack') ? html`<p class="muted">Slack is not configured on this server.</p>` : ''}
      <h3>Discord</h3>
      ${
        app.discordGuildId
          ? html`<p>
                Linked to server
                <span class="mono">${app.discordGuildId}</span>${app.discordChannelId ? html`, channel <span class="mono">${app.discordChannelId}</span>` : ''}.
              </p>
              ${edit ? unlinkForm(session, app, 'discord') : ''}`
          : html`<p class="muted">No Discord server linked.</p>`
      }
      ${edit && codes.includes('discord') ? linkCodeForm(session, app, 'discord') : ''}
      ${!codes.includes('discord') ? html`<p class="muted">Discord is not configured on this server.</p>` : ''}
    </section>
  `;
}

function linkCodeForm(session: ConsoleSession, app: App, provider: 'slack' | 'discord'): Html {
  return html`<form method="post" action="/apps/${app.id}/link-code">
    ${csrfField(session)}
    <input type="hidden" name="provider" value="${provider}" />
    <button type="submit">Get a ${provider === 'slack' ? 'Slack' : 'Discord'} link code</button>
    <span class="muted">then send <code>/userz link</code> with it from inside the ${provider === 'slack' ? 'workspace' : 'server'}.</span>
  </form>`;
}

function unlinkForm(session: ConsoleSession, app: App, provider: 'slack' | 'discord'): Html {
  return html`<form method="post" action="/apps/${app.id}/unlink">
    ${csrfField(session)}
    <input type="hidden" name="provider" value="${provider}" />
    <button type="submit" class="danger">Unlink ${provider === 'slack' ? 'Slack' : 'Discord'}</button>
  </form>`;
}
