import { UserzError } from '../../errors.js';
import { REPRODUCED_TEXT, UNPROVEN_TEXT } from '../../forge/index.js';
import type { Router } from '../../http/index.js';
import { deserializeChangeSet } from '../../pipeline/index.js';
import {
  getBlobRow,
  getRunChecks,
  getRunDetail,
  listApps,
  listAudit,
  listEgressConnections,
  listRuns,
  pageLimit,
  RUN_STATES,
  type BlobStore,
  type CommandResult,
  type Db,
  type EgressConnection,
  type RunDetail,
  type RunChecks,
  type RunListItem,
} from '../../store/index.js';
import { requirePermission } from '../../tenant/index.js';
import { badge, preciseTime, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { addMemberPage } from '../page-route.js';
import type { ConsolePagesDeps } from './deps.js';
import { retentionSection } from './retention.js';
import { renderChangeSet, renderTranscript, visible } from './run-log.js';

/**
 * GET /runs : the org's runs newest first (filter by state and App, next by cursor).
 * GET /runs/:id : one run: its state timeline from the audit log, the guardrail verdict
 * (for pr_failed the file, rule id and reason up top), the PR and its review state, tokens
 * and cost, the change set as a diff and the run log, both as escaped text.
 */
export function registerRunPages(router: Router, deps: ConsolePagesDeps): void {
  addMemberPage(router, deps.auth, '/runs', async ({ res, url, session, principal }) => {
    requirePermission(principal, 'read');
    const q = url.searchParams;
    const state = RUN_STATES.find((s) => s === q.get('state'));
    const appId = q.get('app') || undefined;
    const limit = pageLimit(q.get('limit'));
    const [page, apps] = await Promise.all([
      listRuns(deps.db, principal.orgId, { state, appId }, { cursor: q.get('cursor') || null, limit }),
      listApps(deps.db, principal.orgId),
    ]);
    const appName = new Map(apps.map((a) => [a.id, a.name]));
    const keep = { state, app: appId, limit: q.get('limit') };
    const body = html`
      <form method="get" action="/runs" class="filters" aria-label="Filter runs">
        <label
          >State
          <select name="state">
            <option value="">Any</option>
            ${RUN_STATES.map((s) => html`<option value="${s}" ${s === state ? html`selected` : ''}>${s.replace(/_/g, ' ')}</option>`)}
          </select>
        </label>
        <label
          >App
          <select name="app">
            <option value="">Any</option>
            ${apps.map((a) => html`<option value="${a.id}" ${a.id === appId ? html`selected` : ''}>${a.name}</option>`)}
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      ${
        page.items.length === 0
          ? html`<p class="notice">No runs${state || appId ? ' match these filters' : ' yet'}.</p>`
          : html`<table>
              <caption class="muted">
                Runs, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Run</th>
                  <th scope="col">State</th>
                  <th scope="col">App</th>
                  <th scope="col">Pull request</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map((r) => runRow(r, appName.get(r.appId) ?? r.appId))}
              </tbody>
            </table>`
      }
      <nav class="pager" aria-label="Pages">
        ${q.get('cursor') ? html`<a href="${href('/runs', keep)}">Newest</a>` : ''}
        ${page.nextCursor ? html`<a href="${href('/runs', { ...keep, cursor: page.nextCursor })}" rel="next">Older</a>` : ''}
      </nav>
    `;
    sendPage(res, 200, layout({ title: 'Runs', session, active: '/runs', body }));
  });

  addMemberPage(router, deps.auth, '/runs/:id', async ({ res, url, params, session, principal }) => {
    requirePermission(principal, 'read');
    const run = await getRunDetail(deps.db, principal.orgId, params.id!);
    if (!run) throw new UserzError('run_not_found', 'No such run in this organization');
    const [events, log, changes, checks, egress] = await Promise.all([
      listAudit(deps.db, { subject: run.id, orgId: principal.orgId }),
      readBlob(deps, run.logBlob),
      readBlob(deps, run.changesetBlob),
      getRunChecks(deps.db, run.id),
      listEgressConnections(deps.db, principal.orgId, run.id),
    ]);
    const timeline = events.filter((e) => e.action.startsWith('run.'));
    const body = html`
      ${run.state === 'pr_failed' ? refusal(run) : ''}
      <dl class="facts">
        <dt>State</dt>
        <dd>
          ${badge(run.state)}${run.stateReason ? html` <span class="mono">${run.stateReason}</span>` : ''}
          ${run.state === 'triaged' ? html` <span class="muted">(queued: a worker starts it next)</span>` : ''}
        </dd>
        <dt>App</dt>
        <dd>${run.appName}</dd>
        <dt>Repository</dt>
        <dd>${run.repo ? html`${run.repo.fullName} <span class="muted">(${run.repo.forge})</span>` : html`<span class="muted">none linked</span>`}</dd>
        <dt>Pull request</dt>
        <dd>${prLink(run)}</dd>
        <dt>Branch</dt>
        <dd class="mono">${run.branch ?? '—'}${run.baseCommit ? html` <span class="muted">from ${run.baseCommit.slice(0, 12)}</span>` : ''}</dd>
        <dt>Tokens and cost</dt>
        <dd>${usage(run.usage)}</dd>
        ${
          run.reviewNote
            ? html`<dt>Review note</dt>
                <dd class="text">${run.reviewNote}</dd>`
            : ''
        }
        <dt>Id</dt>
        <dd class="mono">${run.id}</dd>
      </dl>
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        <ol class="timeline">
          <li>${preciseTime(run.createdAt)} created</li>
          ${timeline.map((e) => {
            const reason = typeof e.data.reason === 'string' ? e.data.reason : null;
            return html`<li>${preciseTime(e.at)} ${badge(e.action.slice(4))}${reason ? html` <span class="mono">${reason}</span>` : ''}</li>`;
          })}
          ${run.finishedAt ? html`<li>${preciseTime(run.finishedAt)} finished</li>` : ''}
        </ol>
      </section>
      <section aria-labelledby="reports-h">
        <h2 id="reports-h">Reports it serves</h2>
        <ul>
          ${run.reports.map((r) => html`<li>${time(r.createdAt)} <a href="${href(`/reports/${r.id}`)}">${r.excerpt.replace(/\s+/g, ' ').slice(0, 120) || r.id}</a></li>`)}
        </ul>
      </section>
      ${verdictSection(run)} ${checksSection(checks)} ${egressSection(egress)}
      ${retentionSection('runs', run.id, run, principal, session, url.searchParams.get('retention') === 'set')}
      <section aria-labelledby="diff-h">
        <h2 id="diff-h">Change set</h2>
        ${blobBody(changes, 'No change set was made.', (data) => renderChangeSet(deserializeChangeSet(data)))}
      </section>
      <section aria-labelledby="log-h">
        <h2 id="log-h">Run log</h2>
        ${blobBody(log, 'No run log was kept (the run did not reach the agent).', renderTranscript)}
      </section>
    `;
    sendPage(res, 200, layout({ title: `Run ${run.id}`, session, active: '/runs', body }));
  });
}

function runRow(r: RunListItem, appName: string): Html {
  return html`<tr>
    <td>${time(r.createdAt)}</td>
    <td><a class="mono" href="${href(`/runs/${r.id}`)}">${r.id}</a></td>
    <td>${badge(r.state)}${r.stateReason ? html`<br /><span class="muted mono">${r.stateReason}</span>` : ''}</td>
    <td>${appName}</td>
    <td>${safeUrl(r.prUrl) ? html`<a href="${r.prUrl!}">#${r.prNumber ?? ''}</a> ${badge(r.reviewState)}` : html`<span class="muted">—</span>`}</td>
    <td>${time(r.finishedAt)}</td>
  </tr>`;
}

/** Links only to http(s) URLs the forge gave us. */
function safeUrl(url: string | null): boolean {
  return url !== null && /^https?:\/\//i.test(url);
}

function prLink(run: RunDetail): Html {
  if (!safeUrl(run.prUrl)) return html`<span class="muted">none</span>`;
  return html`<a href="${run.prUrl!}">${run.prUrl!}</a>
    ${run.reviewState ? html`review: ${badge(run.reviewState)}` : html`<span class="muted">no review yet</span>`}`;
}

function usage(u: Record<string, unknown> | null): Html {
  if (!u) return html`<span class="muted">none recorded</span>`;
  const n = (k: string) => (typeof u[k] === 'number' ? (u[k] as number) : null);
  const parts: string[] = [];
  if (n('inputTokens') !== null) parts.push(`${n('inputTokens')!.toLocaleString('en-US')} input tokens`);
  if (n('cachedInputTokens')) parts.push(`${n('cachedInputTokens')!.toLocaleString('en-US')} of them cached`);
  if (n('outputTokens') !== null) parts.push(`${n('outputTokens')!.toLocaleString('en-US')} output tokens`);
  if (n('turns') !== null) parts.push(`${n('turns')} turns`);
  if (n('costUsd') !== null) parts.push(`$${n('costUsd')!.toFixed(4)}`);
  return parts.length === 0 ? html`<span class="muted">none recorded</span>` : html`${parts.join(', ')}`;
}

interface Violation {
  path: string;
  ruleId: string;
  reason: string;
}

function violationsOf(verdict: unknown): { allowed: boolean; violations: Violation[] } | null {
  if (typeof verdict !== 'object' || verdict === null) return null;
  const v = verdict as { allowed?: unknown; violations?: unknown };
  const violations = Array.isArray(v.violations)
    ? v.violations.flatMap((x: unknown) => {
        const e = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
        return [{ path: String(e.path ?? ''), ruleId: String(e.ruleId ?? ''), reason: String(e.reason ?? '') }];
      })
    : [];
  return { allowed: v.allowed === true, violations };
}

/** For pr_failed, at the top: each file and rule that tripped, or the reason when it was not the guardrail. */
function refusal(run: RunDetail): Html {
  const verdict = violationsOf(run.verdict);
  if (!verdict || verdict.violations.length === 0) {
    return html`<div class="error" role="alert"><strong>No pull request:</strong> <span class="mono">${run.stateReason ?? 'unknown'}</span></div>`;
  }
  return html`<div class="error" role="alert">
    <strong>The guardrail refused this change set</strong>
    <ul class="violations">
      ${verdict.violations.map(
        (v) =>
          html`<li>
            <span class="mono">${v.path === '' ? '(the whole change set)' : visible(v.path)}</span>: rule <span class="mono">${v.ruleId}</span>. ${v.reason}
          </li>`,
      )}
    </ul>
  </div>`;
}

function verdictSection(run: RunDetail): Html {
  const verdict = violationsOf(run.verdict);
  return html`<section aria-labelledby="verdict-h">
    <h2 id="verdict-h">Guardrail verdict</h2>
    ${
      !verdict
        ? html`<p class="muted">Not checked yet.</p>`
        : verdict.allowed
          ? html`<p>${badge('allowed')} Every file passed the rules.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                ${verdict.violations.map(
                  (v) =>
                    html`<tr>
                      <td class="mono">${v.path === '' ? '(the whole change set)' : visible(v.path)}</td>
                      <td class="mono">${v.ruleId}</td>
                      <td>${v.reason}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
    }
  </section>`;
}

/** The repository's setup and check commands (.userz.yml), their exit codes and output, and the reproduction. */
function checksSection(checks: RunChecks | null): Html {
  if (!checks) {
    return html`<section aria-labelledby="checks-h">
      <h2 id="checks-h">Checks</h2>
      <p class="muted">No checks were run (the run did not reach its checks).</p>
    </section>`;
  }
  const r = checks.reproduction;
  return html`<section aria-labelledby="checks-h">
    <h2 id="checks-h">Checks</h2>
    <p>${badge(checks.status)}${checks.requirePassing ? html` <span class="muted">(passing checks are required for a pull request)</span>` : ''}</p>
    ${commandTable('Setup', checks.setup)} ${commandTable('Check commands', checks.commands)}
    <h3>Reproduction</h3>
    <p>${checks.reproduced ? REPRODUCED_TEXT : UNPROVEN_TEXT}</p>
    ${
      r
        ? html`<p>Test: <span class="mono">${visible(r.testPath)}</span>${r.note ? html` <span class="muted">${r.note}</span>` : ''}</p>
            ${commandTable('Before the change', r.before)} ${commandTable('With the change', r.after)}`
        : ''
    }
  </section>`;
}

function commandTable(caption: string, results: CommandResult[]): Html {
  if (results.length === 0) return html`<p class="muted">${caption}: none.</p>`;
  return html`<table>
    <caption>
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">Command</th>
        <th scope="col">Exit code</th>
        <th scope="col">Time</th>
        <th scope="col">Output (last part)</th>
      </tr>
    </thead>
    <tbody>
      ${results.map(
        (c) =>
          html`<tr>
            <td class="mono">${c.command}</td>
            <td class="mono">${c.exitCode === null ? (c.timedOut ? 'timed out' : 'did not finish') : String(c.exitCode)}</td>
            <td>${(c.durationMs / 1000).toFixed(1)} s</td>
            <td>${c.outputTail === '' ? html`<span class="muted">no output</span>` : html`<pre>${c.outputTail}</pre>`}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Every connection the setup's egress proxy was asked for, let through or refused, with why. */
function egressSection(rows: EgressConnection[]): Html {
  return html`<section aria-labelledby="egress-h">
    <h2 id="egress-h">Network during setup</h2>
    ${
      rows.length === 0
        ? html`<p class="muted">No connections were asked for.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Port</th>
                <th scope="col">Verdict</th>
                <th scope="col">Reason</th>
                <th scope="col">Bytes sent / received</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                (e) =>
                  html`<tr>
                    <td class="mono">${e.host}</td>
                    <td class="mono">${String(e.port)}</td>
                    <td>${badge(e.allowed ? 'allowed' : 'refused')}</td>
                    <td class="mono">${e.reason}</td>
                    <td>${e.bytesUp.toLocaleString('en-US')} / ${e.bytesDown.toLocaleString('en-US')}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

type BlobRead = { kind: 'none' } | { kind: 'expired'; at: Date | null } | { kind: 'data'; data: Buffer };

async function readBlob(deps: { db: Db; blobs: BlobStore }, key: string | null): Promise<BlobRead> {
  if (!key) return { kind: 'none' };
  const row = await getBlobRow(deps.db, key);
  if (row?.expiredAt) return { kind: 'expired', at: row.expiredAt };
  const data = await deps.blobs.get(key);
  return data ? { kind: 'data', data } : { kind: 'expired', at: null };
}

function blobBody(read: BlobRead, none: string, render: (data: Buffer) => Html): Html {
  if (read.kind === 'none') return html`<p class="muted">${none}</p>`;
  if (read.kind === 'expired') {
    return html`<p>${badge('expired')} <span class="muted">Removed${read.at ? html` on ${time(read.at)}` : ''} under the org's retention.</span></p>`;
  }
  return render(read.data);
}
