import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { eraseSubject, MAX_RETENTION_DAYS, previewErasure, setAppRetained, setOrgRetention, type ErasureResult } from '../../lifecycle/index.js';
import { getRetentionSettings, type App, type ErasureSubject } from '../../store/index.js';
import { can, requirePermission, type Principal } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { html, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import { csrfField, type AdminPagesDeps } from './admin-deps.js';

/** The settings page's sections that come from other modules (model, usage and caps, webhooks), each drawn for the org. */
export interface SettingsSection {
  id: string;
  render(ctx: { session: ConsoleSession; principal: Principal }): Promise<Html>;
}

function orgNameOf(session: ConsoleSession, orgId: string): string {
  return session.memberships.find((m) => m.orgId === orgId)?.orgName ?? '';
}

/**
 * GET /settings: retention (the org's days, and Apps whose data is kept past it) and, for
 * owners, deletion on request (the whole org, one App, or one reporter) behind a typed
 * confirmation, through the same lifecycle functions as the API and `userz data delete`.
 */
export function registerSettingsPages(router: Router, deps: AdminPagesDeps, sections: readonly SettingsSection[] = []): void {
  const { auth } = deps;

  addMemberPage(router, auth, '/settings', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const [retention, apps] = await Promise.all([getRetentionSettings(deps.db, principal.orgId), deps.appAdmin.list(principal.orgId)]);
    if (!retention) throw new UserzError('org_not_found', 'No such org');
    const retained = new Set(retention.apps.filter((a) => a.retained).map((a) => a.id));
    const saved = url.searchParams.get('saved');
    const extra = await Promise.all(sections.map((s) => s.render({ session, principal })));
    const body = html`
      ${saved ? html`<p class="notice" role="status">Saved.</p>` : ''}
      <section aria-labelledby="retention-h">
        <h2 id="retention-h">Retention</h2>
        ${retentionSection(session, principal, retention.days, apps, retained)}
      </section>
      ${extra} ${can(principal, 'erase') ? erasureSection(session, principal, apps) : ''}
    `;
    sendPage(res, 200, layout({ title: 'Settings', session, active: '/settings', body }));
  });

  addMemberAction(router, auth, '/settings/retention', async ({ res, principal, form }) => {
    requirePermission(principal, 'admin');
    const days = Number(form.get('days'));
    await setOrgRetention(deps.db, principal.orgId, days, principal.actor);
    redirect(res, '/settings?saved=retention');
  });

  addMemberAction(router, auth, '/settings/app-retention', async ({ res, principal, form }) => {
    requirePermission(principal, 'admin');
    const app = await deps.appAdmin.get(principal.orgId, form.get('appId') ?? '');
    await setAppRetained(deps.db, principal.orgId, app.id, form.get('retained') === 'true', principal.actor);
    redirect(res, '/settings?saved=app-retention');
  });

  addMemberAction(router, auth, '/settings/erase', async ({ res, session, principal, form }) => {
    requirePermission(principal, 'erase');
    const { subject, expected, what } = await erasureTarget(deps, session, principal, form);
    if ((form.get('confirm') ?? '').trim() !== expected) {
      throw new UserzError('invalid_input', `Type ${JSON.stringify(expected)} to confirm the deletion of ${what}; nothing was deleted`);
    }
    if (!(await previewErasure(deps.db, subject))) throw new UserzError(subject.kind === 'app' ? 'app_not_found' : 'org_not_found', 'Nothing to delete');
    const result = await eraseSubject({ db: deps.db, blobs: deps.blobs, forgetCache: deps.forgetErasedCache }, subject, principal.actor);
    deps.log.info({ orgId: principal.orgId, subjectKind: subject.kind }, 'Data deleted on request in the console');
    sendPage(res, 200, layout({ title: 'Data deleted', session, active: '/settings', body: erasedBody(what, result, subject.kind === 'org') }));
  });
}

/** What the deletion form names, within the signed-in member's org only, and the words that confirm it. */
async function erasureTarget(
  deps: AdminPagesDeps,
  session: ConsoleSession,
  principal: Principal,
  form: URLSearchParams,
): Promise<{ subject: ErasureSubject; expected: string; what: string }> {
  const kind = form.get('kind');
  if (kind === 'org') {
    const name = orgNameOf(session, principal.orgId);
    return { subject: { kind: 'org', orgId: principal.orgId }, expected: name, what: `the organization ${name}` };
  }
  if (kind === 'app') {
    const app = await deps.appAdmin.get(principal.orgId, form.get('appId') ?? '');
    return { subject: { kind: 'app', appId: app.id }, expected: app.name, what: `the App ${app.name}` };
  }
  if (kind === 'reporter') {
    const reporter = (form.get('reporter') ?? '').trim();
    if (reporter.length === 0 || reporter.length > 320) throw new UserzError('invalid_input', 'Name the reporter by their id or email');
    // Narrowed to this org: a reporter's reports elsewhere belong to other orgs.
    return { subject: { kind: 'reporter', reporter, orgId: principal.orgId }, expected: reporter, what: 'this reporter’s data' };
  }
  throw new UserzError('invalid_input', 'Choose what to delete');
}

function retentionSection(session: ConsoleSession, principal: Principal, days: number, apps: App[], retained: Set<string>): Html {
  const admin = can(principal, 'admin');
  const intro = html`<p>
    Screenshots, attachments, run logs and change sets are deleted after the organization's retention unless their report, run or App is marked retained. The
    reports themselves stay until they are deleted on request.
  </p>`;
  if (!admin) {
    return html`${intro}
      <p>Blobs are kept <strong>${days} days</strong>.</p>
      ${
        apps.filter((a) => retained.has(a.id)).length
          ? html`<p>
              Kept past it:
              ${apps
                .filter((a) => retained.has(a.id))
                .map((a) => a.name)
                .join(', ')}.
            </p>`
          : ''
      }`;
  }
  return html`${intro}
    <form method="post" action="/settings/retention">
      ${csrfField(session)}
      <label for="retention-days">Keep blobs for (days)</label>
      <input type="number" id="retention-days" name="days" min="1" max="${MAX_RETENTION_DAYS}" step="1" required value="${days}" />
      <button type="submit">Save retention</button>
    </form>
    ${
      apps.length
        ? html`<table>
            <caption class="muted">
              Apps whose reports and runs keep their blobs past the retention
            </caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Blobs</th>
                <th scope="col"><span class="visually-hidden">Change</span></th>
              </tr>
            </thead>
            <tbody>
              ${apps.map((a) => {
                const kept = retained.has(a.id);
                return html`<tr>
                  <td>${a.name}</td>
                  <td>${kept ? 'kept' : `deleted after ${days} days`}</td>
                  <td>
                    <form method="post" action="/settings/app-retention" class="inline">
                      ${csrfField(session)}
                      <input type="hidden" name="appId" value="${a.id}" />
                      <input type="hidden" name="retained" value="${kept ? 'false' : 'true'}" />
                      <button type="submit" aria-label="${kept ? 'Stop keeping' : 'Keep'} blobs of ${a.name}">${kept ? 'Stop keeping' : 'Keep'}</button>
                    </form>
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : ''
    }`;
}

function erasureSection(session: ConsoleSession, principal: Principal, apps: App[]): Html {
  const orgName = orgNameOf(session, principal.orgId);
  return html`<section aria-labelledby="erase-h" class="danger-zone">
    <h2 id="erase-h">Delete data on request</h2>
    <p>
      Deletion removes every report, attachment, run log, change set, batch, secret, key and chat link of the subject, and cannot be undone. One audit event
      records that it happened, by whom, and counts.
    </p>
    <form method="post" action="/settings/erase">
      ${csrfField(session)}
      <input type="hidden" name="kind" value="reporter" />
      <h3>One reporter</h3>
      <label for="erase-reporter">Reporter id or email</label>
      <input type="text" id="erase-reporter" name="reporter" required maxlength="320" />
      <label for="erase-reporter-confirm">Type the id or email again to confirm</label>
      <input type="text" id="erase-reporter-confirm" name="confirm" required maxlength="320" autocomplete="off" />
      <p><button type="submit" class="danger">Delete this reporter's data</button></p>
    </form>
    ${
      apps.length
        ? html`<form method="post" action="/settings/erase">
            ${csrfField(session)}
            <input type="hidden" name="kind" value="app" />
            <h3>One App and everything reported through it</h3>
            <label for="erase-app">App</label>
            <select id="erase-app" name="appId" required>
              ${apps.map((a) => html`<option value="${a.id}">${a.name}</option>`)}
            </select>
            <label for="erase-app-confirm">Type the App's name to confirm</label>
            <input type="text" id="erase-app-confirm" name="confirm" required autocomplete="off" />
            <p><button type="submit" class="danger">Delete the App and its data</button></p>
          </form>`
        : ''
    }
    <form method="post" action="/settings/erase">
      ${csrfField(session)}
      <input type="hidden" name="kind" value="org" />
      <h3>The whole organization</h3>
      <label for="erase-org-confirm">Type <strong>${orgName}</strong> to confirm</label>
      <input type="text" id="erase-org-confirm" name="confirm" required autocomplete="off" />
      <p><button type="submit" class="danger">Delete the organization and all its data</button></p>
    </form>
  </section>`;
}

function erasedBody(what: string, result: ErasureResult, orgGone: boolean): Html {
  const counts = Object.entries(result.counts).filter(([, n]) => n > 0);
  return html`<p class="notice" role="status">Deleted ${what}.</p>
    ${
      counts.length
        ? html`<dl class="facts">
            ${counts.map(
              ([k, n]) =>
                html`<dt>${k}</dt>
                  <dd>${n}</dd>`,
            )}
          </dl>`
        : html`<p>There was nothing stored for it.</p>`
    }
    <p>${orgGone ? html`<a href="/">Continue</a>` : html`<a href="/settings">Back to the settings</a>`}</p>`;
}
