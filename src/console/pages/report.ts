import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { getReportDetail, listBatchSiblings, listBlobsOfReport, type ReportDetail, type StoredAttachment } from '../../store/index.js';
import { can, requirePermission } from '../../tenant/index.js';
import { badge, plain, time } from '../format.js';
import { html, href, type Html } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { addMemberPage } from '../page-route.js';
import { checkedContentType, isInlineImage } from './attachment.js';
import type { ConsolePagesDeps } from './deps.js';
import { retentionSection } from './retention.js';
import { decisionForms } from './review.js';

const MAX_SIBLINGS = 20;

/**
 * GET /reports/:id : one report of the org. Everything the reporter wrote (text, console
 * lines, page, reporter, attachment names) is hostile and rendered as inert text; no link
 * is built from it. Screenshots and files come from the console's attachment route.
 */
export function registerReportPage(router: Router, deps: ConsolePagesDeps): void {
  addMemberPage(router, deps.auth, '/reports/:id', async ({ res, url, params, session, principal }) => {
    requirePermission(principal, 'read');
    const report = await getReportDetail(deps.db, principal.orgId, params.id!);
    if (!report) throw new UserzError('report_not_found', 'No such report in this organization');
    const [siblings, blobs] = await Promise.all([
      report.batch ? listBatchSiblings(deps.db, principal.orgId, report.batch.id, report.id, MAX_SIBLINGS) : [],
      listBlobsOfReport(deps.db, report.id),
    ]);
    const expired = new Set(blobs.filter((b) => b.expiredAt !== null).map((b) => b.key));
    const images = await inlineImages(deps, report.attachments, expired);
    const c = report.content;
    const body = html`
      <dl class="facts">
        <dt>Triage</dt>
        <dd>${badge(report.state)}${report.stateReason ? html` <span class="muted">${report.stateReason}</span>` : ''}</dd>
        <dt>Received</dt>
        <dd>${time(report.createdAt)}</dd>
        <dt>App</dt>
        <dd>${report.appName}</dd>
        <dt>Channel</dt>
        <dd>${report.channel}</dd>
        <dt>Run</dt>
        <dd>
          ${report.run ? html`<a href="${href(`/runs/${report.run.id}`)}">${report.run.id}</a> ${badge(report.run.state)}` : html`<span class="muted">none</span>`}
        </dd>
        <dt>Id</dt>
        <dd class="mono">${report.id}</dd>
      </dl>
      ${
        report.run?.state === 'needs_review' && can(principal, 'decide')
          ? html`<section aria-labelledby="decide-h">
              <h2 id="decide-h">Held for review</h2>
              ${decisionForms(report.id, session.csrfToken, `/reports/${report.id}`)}
            </section>`
          : ''
      }
      ${retentionSection('reports', report.id, report, principal, session, url.searchParams.get('retention') === 'set')}
      <section aria-labelledby="text-h">
        <h2 id="text-h">What the reporter wrote</h2>
        <div class="text reporter-text">${typeof c.text === 'string' ? c.text : ''}</div>
      </section>
      ${consoleSection(c.console)} ${pageSection(c.page, c.environment)} ${reporterSection(c.reporter)} ${attachmentsSection(report, expired, images)}
      ${networkSection(c.network)} ${triageSection(report)} ${batchSection(report, siblings)}
    `;
    sendPage(res, 200, layout({ title: `Report ${report.id}`, session, active: '/', body }));
  });
}

function consoleSection(lines: unknown): Html {
  if (!Array.isArray(lines) || lines.length === 0) return html``;
  return html`<section aria-labelledby="console-h">
    <h2 id="console-h">Console (${lines.length} line${lines.length === 1 ? '' : 's'})</h2>
    <ol class="console">
      ${lines.map((l: unknown) => {
        const line = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
        const level = plain(line.level);
        return html`<li class="level-${['log', 'info', 'warn', 'error'].includes(level) ? level : 'log'}">
          <span class="level">${level}</span>${line.ts !== undefined ? html` <span class="muted">${plain(line.ts)}</span>` : ''}
          <span class="text">${plain(line.message)}</span>
        </li>`;
      })}
    </ol>
  </section>`;
}

function pageSection(page: unknown, environment: unknown): Html {
  const p = (typeof page === 'object' && page !== null ? page : {}) as Record<string, unknown>;
  const env = (typeof environment === 'object' && environment !== null ? environment : {}) as Record<string, unknown>;
  const facts: Array<[string, string]> = [];
  if (p.url !== undefined) facts.push(['Page URL', plain(p.url)]);
  if (p.userAgent !== undefined) facts.push(['User agent', plain(p.userAgent)]);
  if (p.viewport !== undefined) facts.push(['Viewport', viewport(p.viewport)]);
  for (const [k, v] of Object.entries(env)) if (k !== 'custom') facts.push([k, k === 'viewport' ? viewport(v) : plain(v)]);
  const custom = typeof env.custom === 'object' && env.custom !== null ? Object.entries(env.custom as Record<string, unknown>) : [];
  for (const [k, v] of custom) facts.push([`context: ${k}`, plain(v)]);
  if (facts.length === 0) return html``;
  return html`<section aria-labelledby="page-h">
    <h2 id="page-h">Page and environment</h2>
    <dl class="facts">
      ${facts.map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd class="text">${v}</dd>`,
      )}
    </dl>
  </section>`;
}

function viewport(v: unknown): string {
  if (typeof v !== 'object' || v === null) return plain(v);
  const { width, height } = v as Record<string, unknown>;
  return `${plain(width)} × ${plain(height)}`;
}

function reporterSection(reporter: unknown): Html {
  if (typeof reporter !== 'object' || reporter === null || Object.keys(reporter).length === 0) return html``;
  return html`<section aria-labelledby="reporter-h">
    <h2 id="reporter-h">Reporter</h2>
    <dl class="facts">
      ${Object.entries(reporter as Record<string, unknown>).map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd class="text">${plain(v)}</dd>`,
      )}
    </dl>
  </section>`;
}

/** The attachments shown inline: declared images whose bytes are that image (the attachment route serves the others as downloads). */
async function inlineImages(deps: ConsolePagesDeps, attachments: StoredAttachment[], expired: ReadonlySet<string>): Promise<Set<string>> {
  const checked = await Promise.all(
    attachments
      .filter((a) => isInlineImage(a.contentType) && !expired.has(a.blobKey))
      .map(async (a) => {
        const data = await deps.blobs.get(a.blobKey);
        return data && checkedContentType(a.contentType, data).inline ? a.id : null;
      }),
  );
  return new Set(checked.filter((id): id is string => id !== null));
}

function attachmentsSection(report: ReportDetail, expired: ReadonlySet<string>, images: ReadonlySet<string>): Html {
  if (report.attachments.length === 0) return html``;
  return html`<section aria-labelledby="files-h">
    <h2 id="files-h">Screenshot and attachments</h2>
    <ul class="attachments">
      ${report.attachments.map((a) => attachmentItem(report.id, a, expired.has(a.blobKey), images.has(a.id)))}
    </ul>
  </section>`;
}

function attachmentItem(reportId: string, a: StoredAttachment, isExpired: boolean, inline: boolean): Html {
  const path = `/reports/${reportId}/attachments/${a.id}`;
  const what = html`<span class="text">${a.name}</span> <span class="muted">${a.contentType}, ${formatBytes(a.size)}</span>`;
  if (isExpired) return html`<li>${what} ${badge('expired')} <span class="muted">removed under the org's retention</span></li>`;
  return html`<li>
    ${what} <a href="${href(path, { download: 1 })}">Download</a>
    ${
      inline
        ? html`<br /><img class="shot" src="${path}" alt="${`Attachment ${a.name}`}" loading="lazy" />`
        : isInlineImage(a.contentType)
          ? html` <span class="muted">(not a valid image: download only)</span>`
          : ''
    }
  </li>`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function networkSection(network: unknown): Html {
  if (!Array.isArray(network) || network.length === 0) return html``;
  return html`<section aria-labelledby="net-h">
    <h2 id="net-h">Failed requests</h2>
    <table>
      <thead>
        <tr>
          <th scope="col">Method</th>
          <th scope="col">URL</th>
          <th scope="col">Status</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        ${network.map((n: unknown) => {
          const e = (typeof n === 'object' && n !== null ? n : {}) as Record<string, unknown>;
          return html`<tr>
            <td>${plain(e.method)}</td>
            <td class="text">${plain(e.url)}</td>
            <td>${plain(e.status)}</td>
            <td class="text">${plain(e.error)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}

function triageSection(report: ReportDetail): Html {
  const cls = report.classification;
  return html`<section aria-labelledby="triage-h">
    <h2 id="triage-h">Triage</h2>
    <dl class="facts">
      <dt>Decision</dt>
      <dd>
        ${report.decision ? html`${badge(report.decision.action)} <span class="muted">${report.decision.reason}</span>` : html`<span class="muted">not triaged yet</span>`}
      </dd>
      <dt>Classifier</dt>
      <dd>
        ${
          cls
            ? html`${badge(cls.label)} ${cls.confidence !== null ? html`<span class="muted">confidence ${cls.confidence.toFixed(2)}</span>` : ''}
                ${cls.model ? html`<span class="muted">(${cls.model})</span>` : ''}<br /><span class="text">${cls.reason}</span>`
            : html`<span class="muted">no classifier ran</span>`
        }
      </dd>
      <dt>Prefilter signals</dt>
      <dd>
        ${
          report.signals.length === 0
            ? html`<span class="muted">none</span>`
            : html`<ul class="signals">
                ${report.signals.map((s) => html`<li><span class="mono">${s.id}</span> <span class="muted">score ${s.score}, ${s.count} match${s.count === 1 ? '' : 'es'}</span></li>`)}
              </ul>`
        }
      </dd>
    </dl>
  </section>`;
}

function batchSection(report: ReportDetail, siblings: Array<{ id: string; createdAt: Date; state: string; excerpt: string }>): Html {
  const b = report.batch;
  if (!b) return html``;
  return html`<section aria-labelledby="batch-h">
    <h2 id="batch-h">Batch</h2>
    <p>
      <span class="mono">${b.id}</span>: ${b.reportCount} report${b.reportCount === 1 ? '' : 's'} since ${time(b.createdAt)}.
      ${b.summary ? html`<br /><span class="text">${b.summary}</span>` : ''}
    </p>
    ${
      siblings.length === 0
        ? html`<p class="muted">No other report joined this batch.</p>`
        : html`<ul class="siblings">
            ${siblings.map((s) => html`<li>${time(s.createdAt)} <a href="${href(`/reports/${s.id}`)}">${s.excerpt.replace(/\s+/g, ' ').slice(0, 120) || s.id}</a> ${badge(s.state)}</li>`)}
          </ul>`
    }
  </section>`;
}
