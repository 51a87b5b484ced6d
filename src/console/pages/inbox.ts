import type { Router } from '../../http/index.js';
import { listApps, listReports, pageLimit, previousReportsCursor, type ReportListFilter, type ReportListItem } from '../../store/index.js';
import { requirePermission } from '../../tenant/index.js';
import { TRIAGE_LABELS } from '../../triage/index.js';
import { badge, reporterName, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { addMemberPage } from '../page-route.js';
import type { ConsolePagesDeps } from './deps.js';

/**
 * The report states the filter offers: reports.status, as GET /api/v1/reports/:id shows it.
 * It is where triage put the report (a held report stays needs_review once approved), so the
 * page calls it "Triage" and shows the run's state beside it.
 */
const STATES = ['received', 'triaged', 'needs_review', 'rejected', 'errored'] as const;
const CHANNELS = ['widget', 'slack', 'discord', 'api'] as const;

/**
 * GET / : the inbox. The org's reports newest first, filtered by state, label, App and
 * channel and searched in full text, a page at a time by cursor (next and previous).
 */
export function registerInboxPage(router: Router, deps: ConsolePagesDeps): void {
  addMemberPage(router, deps.auth, '/', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const q = url.searchParams;
    const filter: ReportListFilter = {
      state: oneOf(q.get('state'), STATES),
      label: oneOf(q.get('label'), TRIAGE_LABELS),
      channel: oneOf(q.get('channel'), CHANNELS),
      appId: q.get('app') || undefined,
      q: (q.get('q') ?? '').slice(0, 200) || undefined,
    };
    const limit = pageLimit(q.get('limit'));
    const cursor = q.get('cursor') || null;
    const [page, apps] = await Promise.all([listReports(deps.db, principal.orgId, filter, { cursor, limit }), listApps(deps.db, principal.orgId)]);
    const first = page.items[0];
    const prev = cursor && first ? await previousReportsCursor(deps.db, principal.orgId, filter, first, limit) : undefined;
    const keep = { state: filter.state, label: filter.label, channel: filter.channel, app: filter.appId, q: filter.q, limit: q.get('limit') };
    const filtered = Object.values(keep).some((v) => v);

    const body = html`
      <form method="get" action="/" class="filters" role="search" aria-label="Filter reports">
        <label>Triage ${select('state', STATES, filter.state)}</label>
        <label>Label ${select('label', TRIAGE_LABELS, filter.label)}</label>
        <label
          >App
          <select name="app">
            <option value="">Any</option>
            ${apps.map((a) => html`<option value="${a.id}" ${a.id === filter.appId ? html`selected` : ''}>${a.name}</option>`)}
          </select>
        </label>
        <label>Channel ${select('channel', CHANNELS, filter.channel)}</label>
        <label>Search <input type="search" name="q" value="${filter.q ?? ''}" maxlength="200" /></label>
        <button type="submit">Apply</button>
        ${filtered ? html`<a href="/">Clear</a>` : ''}
      </form>
      ${
        page.items.length === 0
          ? html`<p class="notice">
              ${filtered ? 'No report matches these filters.' : 'No reports yet. Reports sent through an App’s widget, Slack, Discord or the API appear here.'}
            </p>`
          : html`<table>
              <caption class="muted">
                Reports, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Report</th>
                  <th scope="col">Triage</th>
                  <th scope="col">Label</th>
                  <th scope="col">App</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Reporter</th>
                  <th scope="col">Batch and run</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map(row)}
              </tbody>
            </table>`
      }
      <nav class="pager" aria-label="Pages">
        ${prev === undefined ? '' : html`<a href="${href('/', { ...keep, cursor: prev })}" rel="prev">Newer</a>`}
        ${page.nextCursor ? html`<a href="${href('/', { ...keep, cursor: page.nextCursor })}" rel="next">Older</a>` : ''}
      </nav>
    `;
    sendPage(res, 200, layout({ title: 'Inbox', session, active: '/', body }));
  });
}

function row(r: ReportListItem): Html {
  return html`<tr>
    <td>${time(r.createdAt)}</td>
    <td class="excerpt"><a href="${href(`/reports/${r.id}`)}">${r.excerpt.trim() === '' ? r.id : excerptOf(r.excerpt)}</a></td>
    <td>${badge(r.state)}</td>
    <td>${badge(r.label)}</td>
    <td>${r.appName}</td>
    <td>${r.channel}</td>
    <td>${reporterName(r.reporter) || html`<span class="muted">—</span>`}</td>
    <td>
      ${
        r.batchId
          ? html`${r.batchSize ?? 1}
            report${r.batchSize === 1 ? '' : 's'}${r.runId ? html`<br /><a href="${href(`/runs/${r.runId}`)}">run</a> ${badge(r.runState)}` : ''}`
          : html`<span class="muted">—</span>`
      }
    </td>
  </tr>`;
}

/** One line of the report's text: its first 120 characters. */
function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}

function select(name: string, options: readonly string[], current: string | undefined): Html {
  return html`<select name="${name}">
    <option value="">Any</option>
    ${options.map((o) => html`<option value="${o}" ${o === current ? html`selected` : ''}>${o.replace(/_/g, ' ')}</option>`)}
  </select>`;
}
