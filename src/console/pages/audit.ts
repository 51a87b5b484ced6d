import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { listAuditEvents, pageLimit, type AuditFilter, type StoredAuditEvent } from '../../store/index.js';
import { requirePermission } from '../../tenant/index.js';
import { CONSOLE_HEADERS, layout, sendPage } from '../layout.js';
import { preciseTime } from '../format.js';
import { html, href, type Html } from '../html.js';
import { addMemberPage } from '../page-route.js';
import type { AdminPagesDeps } from './admin-deps.js';
import { csvRow } from './csv.js';

/** An export holds at most this many events; narrow the filter for more. */
const CSV_MAX_ROWS = 50_000;

/** `YYYY-MM-DD` is that whole day in UTC (`to` includes it); a full ISO time is taken as is. */
function parseDay(raw: string | null, field: 'from' | 'to'): Date | undefined {
  if (!raw) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const at = new Date(day ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(at.getTime())) throw new UserzError('invalid_input', `${field} must be a date (YYYY-MM-DD) or an ISO time`);
  return day && field === 'to' ? new Date(at.getTime() + 86_400_000) : at;
}

function filterOf(q: URLSearchParams): { filter: AuditFilter; keep: Record<string, string | undefined> } {
  const text = (name: string) => (q.get(name) ?? '').trim().slice(0, 200) || undefined;
  const keep = { actor: text('actor'), action: text('action'), subject: text('subject'), from: text('from'), to: text('to') };
  return {
    filter: { actor: keep.actor, action: keep.action, subject: keep.subject, from: parseDay(keep.from ?? null, 'from'), to: parseDay(keep.to ?? null, 'to') },
    keep,
  };
}

function facts(data: Record<string, unknown>): string {
  const text = JSON.stringify(data);
  return text === '{}' ? '' : text;
}

function eventRow(e: StoredAuditEvent): Html {
  return html`<tr>
    <td>${preciseTime(e.at)}</td>
    <td class="mono">${e.actor}</td>
    <td class="mono">${e.action}</td>
    <td class="mono">${e.subject ?? ''}</td>
    <td class="mono text">${facts(e.data)}</td>
  </tr>`;
}

/**
 * GET /audit: the org's audit log, newest first, filtered by actor, action (exact, or a
 * prefix as `app.*`), subject and days, a keyset page at a time. GET /audit.csv: the same
 * filter as CSV (escaped, formula-safe). Everyone in the org reads it.
 */
export function registerAuditPages(router: Router, deps: AdminPagesDeps): void {
  addMemberPage(router, deps.auth, '/audit', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const { filter, keep } = filterOf(url.searchParams);
    const cursor = url.searchParams.get('cursor') || null;
    const page = await listAuditEvents(deps.db, principal.orgId, filter, { cursor, limit: pageLimit(url.searchParams.get('limit')) });
    const input = (name: keyof typeof keep, label: string, type = 'text', placeholder = '') =>
      html`<label for="audit-${name}">${label}</label>
        <input type="${type}" id="audit-${name}" name="${name}" value="${keep[name] ?? ''}" ${placeholder ? html`placeholder="${placeholder}"` : ''} />`;
    const body = html`
      <form method="get" action="/audit" class="filters" role="search" aria-label="Filter the audit log">
        <div>${input('actor', 'Actor', 'text', 'user:… or api_key:…')}</div>
        <div>${input('action', 'Action', 'text', 'app.create or app.*')}</div>
        <div>${input('subject', 'Subject')}</div>
        <div>${input('from', 'From (UTC day)', 'date')}</div>
        <div>${input('to', 'To (UTC day)', 'date')}</div>
        <button type="submit">Apply</button>
        ${Object.values(keep).some(Boolean) ? html`<a href="/audit">Clear</a>` : ''}
      </form>
      <p>
        <a href="${href('/audit.csv', keep)}" download>Download as CSV</a>
        <span class="muted">(every event that matches, at most ${CSV_MAX_ROWS.toLocaleString('en')})</span>
      </p>
      ${
        page.items.length === 0
          ? html`<p class="notice">No audit event matches.</p>`
          : html`<table>
              <caption class="muted">
                Audit events, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Facts</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map(eventRow)}
              </tbody>
            </table>`
      }
      <nav class="pager" aria-label="Pages">
        ${cursor ? html`<a href="${href('/audit', keep)}">Newest</a>` : ''}
        ${page.nextCursor ? html`<a href="${href('/audit', { ...keep, cursor: page.nextCursor })}" rel="next">Older</a>` : ''}
      </nav>
    `;
    sendPage(res, 200, layout({ title: 'Audit log', session, active: '/audit', body }));
  });

  addMemberPage(router, deps.auth, '/audit.csv', async ({ res, url, principal }) => {
    requirePermission(principal, 'read');
    const { filter } = filterOf(url.searchParams);
    // Read before the first byte goes out: an error is still a page, not half a file.
    const first = await listAuditEvents(deps.db, principal.orgId, filter, { limit: 100 });
    res.writeHead(200, {
      ...CONSOLE_HEADERS,
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="audit-log.csv"',
    });
    res.write(csvRow(['id', 'time', 'actor', 'action', 'subject', 'facts']));
    let page = first;
    let rows = 0;
    for (;;) {
      for (const e of page.items) {
        res.write(csvRow([e.id, e.at.toISOString(), e.actor, e.action, e.subject, facts(e.data)]));
        rows++;
      }
      if (!page.nextCursor || rows >= CSV_MAX_ROWS) break;
      page = await listAuditEvents(deps.db, principal.orgId, filter, { cursor: page.nextCursor, limit: 100 });
    }
    res.end();
  });
}
