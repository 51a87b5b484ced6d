import type { Router } from '../../http/index.js';
import { decideHeldReport, rejectReasonText } from '../../pipeline/index.js';
import { listHeldReports, type HeldReport } from '../../store/index.js';
import { can, requirePermission } from '../../tenant/index.js';
import { badge, reporterName, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { addMemberAction, addMemberPage } from '../page-route.js';
import type { ConsolePagesDeps } from './deps.js';

const QUEUE_LIMIT = 100;

/** Why triage held a report, in words; the machine reason stays beside it. */
const HELD_BECAUSE: Record<string, string> = {
  prefilter_signals: 'The classifier found it benign, but the prefilter found patterns of prompt injection.',
  classifier_unavailable: 'No classifier is configured, so every report waits for a person.',
  model_not_configured: 'The org has no model set up (and the server shares none), so every report waits for a person.',
  malicious_injection: 'The classifier thinks the report tries to instruct the agent.',
};

/**
 * GET /review : reports whose run waits for a maintainer, longest waiting first, with why
 * triage held them; each with approve (the run is queued) and reject with a reason (kept on
 * the run, never sent to the reporter). POST /review/:id/approve|reject decide through the
 * same pipeline function as the API, audited as the signed-in member.
 */
export function registerReviewPages(router: Router, deps: ConsolePagesDeps): void {
  addMemberPage(router, deps.auth, '/review', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const held = await listHeldReports(deps.db, principal.orgId, QUEUE_LIMIT);
    const done = doneNotice(url.searchParams);
    const mayDecide = can(principal, 'decide');
    const body = html`
      ${done}
      ${
        held.length === 0
          ? html`<p class="notice">Nothing is waiting for review.</p>`
          : html`<p class="muted">${held.length === QUEUE_LIMIT ? `The ${QUEUE_LIMIT} longest waiting` : `${held.length} held`}, longest waiting first.</p>
              <ol class="queue">
                ${held.map((r) => heldItem(r, mayDecide ? decisionForms(r.id, session.csrfToken, '/review') : html``))}
              </ol>`
      }
    `;
    sendPage(res, 200, layout({ title: 'Review queue', session, active: '/review', body }));
  });

  addMemberAction(router, deps.auth, '/review/:id/approve', async ({ res, params, principal, form }) => {
    const { runId } = await decideHeldReport(deps, principal, params.id!, { action: 'approve' });
    redirect(res, href(backTo(form, params.id!), { done: 'approved', report: params.id, run: runId }));
  });

  addMemberAction(router, deps.auth, '/review/:id/reject', async ({ res, params, principal, form }) => {
    const reason = rejectReasonText(form.get('reason') ?? undefined);
    const { runId } = await decideHeldReport(deps, principal, params.id!, { action: 'reject', reason });
    redirect(res, href(backTo(form, params.id!), { done: 'rejected', report: params.id, run: runId }));
  });
}

/** Where a decision form returns: the queue, or the report page it was sent from (never a path the form names). */
function backTo(form: URLSearchParams, reportId: string): string {
  return form.get('from') === 'report' ? `/reports/${encodeURIComponent(reportId)}` : '/review';
}

/** Approve and reject-with-reason for one held report, each a CSRF-protected form. */
export function decisionForms(reportId: string, csrfToken: string, from: '/review' | `/reports/${string}`): Html {
  const id = encodeURIComponent(reportId);
  const fromField = html`<input type="hidden" name="from" value="${from === '/review' ? 'review' : 'report'}" />`;
  return html`<div class="decide">
    <form method="post" action="/review/${id}/approve" class="inline">
      <input type="hidden" name="_csrf" value="${csrfToken}" />${fromField}
      <button type="submit" class="primary">Approve and queue the run</button>
    </form>
    <form method="post" action="/review/${id}/reject" class="reject">
      <input type="hidden" name="_csrf" value="${csrfToken}" />${fromField}
      <label for="reason-${reportId}">Reason for rejecting (kept on the run, not sent to the reporter)</label>
      <textarea id="reason-${reportId}" name="reason" rows="2" cols="60" maxlength="500"></textarea>
      <button type="submit" class="danger">Reject</button>
    </form>
  </div>`;
}

function heldItem(r: HeldReport, forms: Html): Html {
  const why = r.heldBecause ? (HELD_BECAUSE[r.heldBecause] ?? (r.heldBecause.startsWith('classifier_') ? 'The classifier could not give an answer.' : '')) : '';
  return html`<li class="held">
    <h2 class="held-title"><a href="${href(`/reports/${r.id}`)}">${r.excerpt.replace(/\s+/g, ' ').trim().slice(0, 120) || r.id}</a></h2>
    <p class="muted">${time(r.createdAt)} · ${r.appName} · ${r.channel}${reporterName(r.reporter) ? html` · ${reporterName(r.reporter)}` : ''}</p>
    <dl class="facts">
      <dt>Why held</dt>
      <dd>${why ? html`${why} ` : ''}<span class="mono">${r.heldBecause ?? r.runReason ?? 'unknown'}</span></dd>
      ${
        r.signals.length > 0
          ? html`<dt>Prefilter signals</dt>
              <dd>${r.signals.map((s, i) => html`${i > 0 ? ', ' : ''}<span class="mono">${s.id}</span> (${s.score})`)}</dd>`
          : ''
      }
      ${
        r.classification
          ? html`<dt>Classifier</dt>
              <dd>
                ${badge(r.classification.label)}
                ${r.classification.confidence !== null ? html`<span class="muted">${r.classification.confidence.toFixed(2)}</span>` : ''}
                <span class="text">${r.classification.reason}</span>
              </dd>`
          : ''
      }
      <dt>Run</dt>
      <dd><a href="${href(`/runs/${r.runId}`)}">${r.runId}</a> ${badge(r.runState)}</dd>
    </dl>
    ${forms}
  </li>`;
}

function doneNotice(q: URLSearchParams): Html {
  const done = q.get('done');
  const report = q.get('report');
  const run = q.get('run');
  if ((done !== 'approved' && done !== 'rejected') || !report || !run) return html``;
  return html`<p class="notice" role="status">
    ${done === 'approved' ? 'Approved: the run is queued.' : 'Rejected: the reporter is told it was not accepted.'}
    <a href="${href(`/reports/${encodeURIComponent(report)}`)}">Report</a> · <a href="${href(`/runs/${encodeURIComponent(run)}`)}">Run</a>
  </p>`;
}
