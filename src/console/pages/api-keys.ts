import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { issueApiKey } from '../../security/index.js';
import { getApiKey, listApiKeys, pageLimit, type ApiKeySummary } from '../../store/index.js';
import { mayGrant, requirePermission, SCOPES, type Principal, type Scope } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import { csrfField, shownOnce, type AdminPagesDeps } from './admin-deps.js';

const SCOPE_HELP: Record<Scope, string> = {
  read: 'every GET: the read-only key outside systems get',
  write: 'read, plus decisions on held reports and App and repository edits',
  admin: 'write, plus keys, model settings, caps, members and deletion',
};

/**
 * GET /api-keys, POST /api-keys (the key shown once on the answer), POST /api-keys/:id/revoke.
 * Owners and admins only (`admin`); a key gets only scopes its creator holds (mayGrant), as
 * POST /api/v1/api-keys does, so an admin cannot mint an `admin` key (that includes deletion).
 */
export function registerApiKeyPages(router: Router, deps: AdminPagesDeps): void {
  const { auth } = deps;

  addMemberPage(router, auth, '/api-keys', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'admin');
    const cursor = url.searchParams.get('cursor') || null;
    const page = await listApiKeys(deps.db, principal.orgId, { cursor, limit: pageLimit(url.searchParams.get('limit')) });
    const revoked = url.searchParams.get('revoked');
    const body = html`
      ${revoked ? html`<p class="notice" role="status">Key revoked: it is refused from its next request on.</p>` : ''}
      ${
        page.items.length === 0
          ? html`<p class="notice">No API keys yet.</p>`
          : html`<table>
              <caption class="muted">
                API keys, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Key</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map((k) => keyRow(session, k))}
              </tbody>
            </table>`
      }
      <nav class="pager" aria-label="Pages">
        ${page.nextCursor ? html`<a href="${href('/api-keys', { cursor: page.nextCursor })}" rel="next">Older</a>` : ''}
      </nav>
      <section aria-labelledby="new-key">
        <h2 id="new-key">New key</h2>
        ${createForm(session, principal)}
      </section>
    `;
    sendPage(res, 200, layout({ title: 'API keys', session, active: '/api-keys', body }));
  });

  addMemberAction(router, auth, '/api-keys', async ({ res, session, principal, form }) => {
    requirePermission(principal, 'admin');
    const label = (form.get('label') ?? '').trim();
    if (label.length === 0 || label.length > 100) throw new UserzError('invalid_input', 'A key needs a label of 1 to 100 characters');
    const scopes = SCOPES.filter((s) => form.getAll('scopes').includes(s));
    if (scopes.length === 0) throw new UserzError('invalid_input', 'Choose at least one scope');
    if (!mayGrant(principal, scopes))
      throw new UserzError('insufficient_scope', `A key cannot grant scopes its creator does not hold (your role is ${principal.role})`);
    const issued = await issueApiKey(deps.db, principal.orgId, { label, scopes, actor: principal.actor });
    deps.log.info({ orgId: principal.orgId, keyId: issued.id }, 'API key created in the console');
    const body = html`<p class="notice" role="status">Key <strong>${label}</strong> created with ${scopes.join(', ')}.</p>
      ${shownOnce('api-key', 'API key', issued.key)}
      <p>Send it as <code>Authorization: Bearer sk_…</code>. Only a hash is stored; a lost key cannot be shown again, only revoked and replaced.</p>
      <p><a href="/api-keys">Back to the API keys</a></p>`;
    sendPage(res, 201, layout({ title: 'API key created', session, active: '/api-keys', body }));
  });

  addMemberAction(router, auth, '/api-keys/:id/revoke', async ({ res, principal, params }) => {
    requirePermission(principal, 'admin');
    if (!(await getApiKey(deps.db, principal.orgId, params.id!))) throw new UserzError('api_key_not_found', 'No such API key');
    await deps.apiKeys.revoke(principal.orgId, params.id!, principal.actor);
    redirect(res, href('/api-keys', { revoked: params.id }));
  });
}

function keyRow(session: ConsoleSession, k: ApiKeySummary): Html {
  return html`<tr>
    <td>${k.label ?? html`<span class="muted">no label</span>`}</td>
    <td class="mono">sk_${k.prefix}_…</td>
    <td>${k.scopes.join(', ')}</td>
    <td>${time(k.createdAt)}</td>
    <td>${k.lastUsedAt ? time(k.lastUsedAt) : html`<span class="muted">never</span>`}</td>
    <td>
      ${
        k.revokedAt
          ? html`<span class="state bad">revoked</span> ${time(k.revokedAt)}`
          : html`<form method="post" action="/api-keys/${k.id}/revoke" class="inline">
              ${csrfField(session)}
              <button type="submit" class="danger" aria-label="Revoke ${k.label ?? k.prefix}">Revoke</button>
            </form>`
      }
    </td>
  </tr>`;
}

function createForm(session: ConsoleSession, principal: Principal): Html {
  return html`<form method="post" action="/api-keys">
    ${csrfField(session)}
    <label for="key-label">Label</label>
    <input type="text" id="key-label" name="label" required maxlength="100" aria-describedby="key-label-help" />
    <p id="key-label-help" class="muted">What the key is for, such as “CI” or “status dashboard”.</p>
    <fieldset>
      <legend>Scopes</legend>
      ${SCOPES.map((s) => {
        const grantable = mayGrant(principal, [s]);
        return html`<div>
          <input type="checkbox" id="scope-${s}" name="scopes" value="${s}" ${s === 'read' ? html`checked` : ''} ${grantable ? '' : html`disabled`} />
          <label for="scope-${s}" class="check">${s}</label>
          <span class="muted">${SCOPE_HELP[s]}${grantable ? '' : ' (only an owner can grant it)'}</span>
        </div>`;
      })}
    </fieldset>
    <button type="submit" class="primary">Create key</button>
  </form>`;
}
