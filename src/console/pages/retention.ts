import { setReportRetained, setRunRetained } from '../../lifecycle/index.js';
import type { Router } from '../../http/index.js';
import { requirePermission, can, type Principal } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { html, type Html } from '../html.js';
import { redirect } from '../layout.js';
import { addMemberAction } from '../page-route.js';
import type { ConsolePagesDeps } from './deps.js';

type Kind = 'reports' | 'runs';
const CHOICES = { keep: true, expire: false, app: null } as const;

/**
 * POST /reports/:id/retention and /runs/:id/retention, form field `retained` = keep | expire | app:
 * the same lifecycle functions as PUT /api/v1/{reports,runs}/:id/retention, permission `decide`.
 * Another org's id is 404 (report_not_found / run_not_found); the page says what was set.
 */
export function registerRetentionActions(router: Router, deps: ConsolePagesDeps): void {
  for (const kind of ['reports', 'runs'] as const) {
    addMemberAction(router, deps.auth, `/${kind}/:id/retention`, async ({ res, params, principal, form }) => {
      requirePermission(principal, 'decide');
      const choice = form.get('retained');
      const retained = choice === 'keep' || choice === 'expire' || choice === 'app' ? CHOICES[choice] : undefined;
      const set = kind === 'reports' ? setReportRetained : setRunRetained;
      if (retained !== undefined) await set(deps.db, principal.orgId, params.id!, retained, principal.actor);
      redirect(res, `/${kind}/${encodeURIComponent(params.id!)}${retained !== undefined ? '?retention=set' : ''}`);
    });
  }
}

/** What the page keeps, and for members who may decide, the three choices. */
export function retentionSection(
  kind: Kind,
  id: string,
  r: { retained: boolean | null; appRetained: boolean },
  principal: Principal,
  session: ConsoleSession,
  justSet: boolean,
): Html {
  const what = kind === 'reports' ? "This report's files (screenshot and attachments)" : "This run's log and change set";
  const now =
    r.retained === true
      ? "are kept past the org's retention."
      : r.retained === false
        ? "expire under the org's retention."
        : `follow the App, which ${r.appRetained ? 'keeps them' : "lets them expire under the org's retention"}.`;
  const current = r.retained === true ? 'keep' : r.retained === false ? 'expire' : 'app';
  return html`<section aria-labelledby="retention-h">
    <h2 id="retention-h">Retention</h2>
    ${justSet ? html`<p class="notice" role="status">Retention saved.</p>` : ''}
    <p>${what} ${now}</p>
    ${
      can(principal, 'decide')
        ? html`<form method="post" action="/${kind}/${encodeURIComponent(id)}/retention" class="inline">
            <input type="hidden" name="_csrf" value="${session.csrfToken}" />
            <label
              >Files
              <select name="retained">
                <option value="keep" ${current === 'keep' ? html`selected` : ''}>Keep them</option>
                <option value="expire" ${current === 'expire' ? html`selected` : ''}>Let them expire</option>
                <option value="app" ${current === 'app' ? html`selected` : ''}>Follow the App</option>
              </select>
            </label>
            <button type="submit">Save</button>
          </form>`
        : ''
    }
  </section>`;
}
