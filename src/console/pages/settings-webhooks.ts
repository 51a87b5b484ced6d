import type { Router } from '../../http/index.js';
import { pageLimit } from '../../store/index.js';
import { can, requirePermission } from '../../tenant/index.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  WEBHOOK_EVENT_TYPES,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../webhooks/index.js';
import type { ConsoleSession } from '../context.js';
import { preciseTime, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import { csrfField, shownOnce, type AdminPagesDeps } from './admin-deps.js';
import type { SettingsSection } from './settings.js';

/**
 * Outgoing webhooks on the settings page: the org's endpoints (create with the signing
 * secret shown once, delete) and each endpoint's delivery log at /settings/webhooks/:id,
 * through the webhooks module's own functions (the same as /api/v1/webhook-endpoints).
 */
export function registerWebhookSettings(router: Router, deps: AdminPagesDeps): SettingsSection {
  const { auth } = deps;
  const endpointDeps = { db: deps.db, vault: deps.vault, allowLoopbackHttp: deps.webhooks?.allowLoopbackHttp };

  addMemberAction(router, auth, '/settings/webhooks', async ({ res, session, principal, form }) => {
    const events = WEBHOOK_EVENT_TYPES.filter((t) => form.getAll('events').includes(t));
    const { endpoint, secret } = await createWebhookEndpoint(endpointDeps, principal, { url: (form.get('url') ?? '').trim(), events });
    const body = html`<p class="notice" role="status">Endpoint <span class="mono">${endpoint.url}</span> registered for ${endpoint.events.join(', ')}.</p>
      ${shownOnce('webhook-signing-secret', 'Signing secret', secret)}
      <p>
        Each delivery carries <code>Userz-Signature: t=&lt;unix time&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</code> made with this secret, and a unique
        <code>Userz-Delivery</code> id to drop duplicates.
      </p>
      <p><a href="/settings">Back to the settings</a></p>`;
    sendPage(res, 201, layout({ title: 'Webhook endpoint created', session, active: '/settings', body }));
  });

  addMemberAction(router, auth, '/settings/webhooks/:id/delete', async ({ res, principal, params }) => {
    await deleteWebhookEndpoint(endpointDeps, principal, params.id!);
    redirect(res, '/settings?saved=webhook-deleted');
  });

  addMemberPage(router, auth, '/settings/webhooks/:id', async ({ res, url, session, principal, params }) => {
    const endpoint = await getWebhookEndpoint(endpointDeps, principal, params.id!);
    const cursor = url.searchParams.get('cursor') || null;
    const page = await listDeliveries(endpointDeps, principal, endpoint.id, { cursor, limit: pageLimit(url.searchParams.get('limit')) });
    const body = html`
      <dl class="facts">
        <dt>URL</dt>
        <dd class="mono">${endpoint.url}</dd>
        <dt>Events</dt>
        <dd>${endpoint.events.join(', ')}</dd>
        <dt>Created</dt>
        <dd>${time(new Date(endpoint.createdAt))}</dd>
      </dl>
      <h2>Delivery log</h2>
      ${page.items.length === 0 ? html`<p class="notice">No delivery yet.</p>` : deliveryTable(page.items)}
      <nav class="pager" aria-label="Pages">
        ${page.nextCursor ? html`<a href="${href(`/settings/webhooks/${endpoint.id}`, { cursor: page.nextCursor })}" rel="next">Older</a>` : ''}
      </nav>
      <p><a href="/settings">Back to the settings</a></p>
    `;
    sendPage(res, 200, layout({ title: 'Webhook deliveries', session, active: '/settings', body }));
  });

  return {
    id: 'webhooks',
    async render({ session, principal }) {
      requirePermission(principal, 'read');
      const page = await listWebhookEndpoints(endpointDeps, principal, { limit: 20 });
      return html`<section aria-labelledby="webhooks-h">
        <h2 id="webhooks-h">Webhooks</h2>
        ${page.items.length === 0 ? html`<p class="muted">No webhook endpoint yet.</p>` : endpointTable(session, page.items, can(principal, 'admin'))}
        ${can(principal, 'admin') ? createForm(session) : ''}
      </section>`;
    },
  };
}

function endpointTable(session: ConsoleSession, endpoints: WebhookEndpoint[], admin: boolean): Html {
  return html`<table>
    <caption class="muted">
      Webhook endpoints
    </caption>
    <thead>
      <tr>
        <th scope="col">URL</th>
        <th scope="col">Events</th>
        <th scope="col">Created</th>
        <th scope="col"><span class="visually-hidden">Actions</span></th>
      </tr>
    </thead>
    <tbody>
      ${endpoints.map(
        (e) =>
          html`<tr>
            <td class="mono">${e.url}</td>
            <td>${e.events.join(', ')}</td>
            <td>${time(new Date(e.createdAt))}</td>
            <td>
              <a href="/settings/webhooks/${e.id}">Delivery log</a>
              ${
                admin
                  ? html`<form method="post" action="/settings/webhooks/${e.id}/delete" class="inline">
                      ${csrfField(session)}
                      <button type="submit" class="danger" aria-label="Delete the endpoint ${e.url}">Delete</button>
                    </form>`
                  : ''
              }
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function deliveryTable(items: WebhookDelivery[]): Html {
  return html`<table>
    <caption class="muted">
      Attempts, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">Time</th>
        <th scope="col">Event</th>
        <th scope="col">Delivery id</th>
        <th scope="col">Attempt</th>
        <th scope="col">Result</th>
      </tr>
    </thead>
    <tbody>
      ${items.map(
        (d) =>
          html`<tr>
            <td>${preciseTime(new Date(d.createdAt))}</td>
            <td class="mono">${d.event}</td>
            <td class="mono">${d.deliveryId}</td>
            <td>${d.attempt}</td>
            <td>
              ${d.delivered ? html`<span class="state good">delivered</span>` : html`<span class="state ${d.final ? 'bad' : 'warn'}">${d.final ? 'gave up' : 'will retry'}</span>`}
              ${d.statusCode !== null ? html` HTTP ${d.statusCode}` : ''} ${d.error ? html`<span class="muted">${d.error}</span>` : ''}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function createForm(session: ConsoleSession): Html {
  return html`<form method="post" action="/settings/webhooks">
    ${csrfField(session)}
    <h3>New endpoint</h3>
    <label for="wh-url">HTTPS URL</label>
    <input type="url" id="wh-url" name="url" required maxlength="2048" placeholder="https://example.com/userz-events" size="50" />
    <fieldset>
      <legend>Events</legend>
      ${WEBHOOK_EVENT_TYPES.map(
        (t) =>
          html`<div>
            <input type="checkbox" id="wh-event-${t}" name="events" value="${t}" checked />
            <label for="wh-event-${t}" class="check">${t}</label>
          </div>`,
      )}
    </fieldset>
    <button type="submit" class="primary">Add endpoint</button>
  </form>`;
}
