import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserzError } from '../../errors.js';
import { clientIp, parseJson, readBody, requireContentType, sendJson, type Router } from '../../http/index.js';
import { getApp } from '../../store/index.js';
import { getReportByStatusToken, reviewOutcomeOfReport } from '../../store/index.js';
import { acceptReport } from '../accept.js';
import type { AppDirectory } from '../app-directory.js';
import type { IntakeDeps } from '../deps.js';
import { INTAKE_LIMITS } from '../limits.js';
import type { IntakeLimiter } from '../rate-limits.js';
import { parseReportInput } from '../report-input.js';
import { allowOrigin, answerPreflight, originOf } from './cors.js';
import type { UserTokenVerifier } from './user-token.js';
import { loadWidgetAssets } from './assets.js';
import { claimSubmission, completeSubmission, parseIdempotencyKey, releaseSubmission } from './idempotency.js';
import { reporterPhase, runOfReport } from './report-phase.js';

interface WidgetRouteDeps {
  deps: IntakeDeps;
  apps: AppDirectory;
  limiter: IntakeLimiter;
  userTokens: UserTokenVerifier;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
};

/** Widget intake: POST /api/v1/reports (+ preflight), the status poll, and the script itself. */
export function registerWidgetRoutes(router: Router, w: WidgetRouteDeps): void {
  const { deps } = w;

  router.add('OPTIONS', '/api/v1/reports', async (req, res) => preflight(w, req, res, 'POST, OPTIONS'));
  router.add('POST', '/api/v1/reports', async (req, res) => {
    const origin = originOf(req);
    const key = header(req, 'x-userz-key');
    if (!key) throw new UserzError('missing_key', 'Send the App public key in the X-Userz-Key header');
    const app = key.startsWith('pub_') ? await w.apps.byPublicKey(key) : null;
    if (!app) throw new UserzError('unknown_key', 'No App has this public key');
    const userToken = header(req, 'x-userz-user-token');
    if (origin) {
      if (!app.origins.includes(origin)) throw originNotAllowed();
      allowOrigin(res, origin);
    } else if (!userToken) {
      // Public mode is for browsers: the Origin allowlist is its only guard.
      throw originNotAllowed();
    }
    const user = userToken ? await w.userTokens.verify(app, userToken) : null;
    const ip = clientIp(req, deps.trustProxy);
    await w.limiter.checkAppAndIp(app.id, ip, { publicMode: !user });

    requireContentType(req, 'application/json');
    const parsed = parseReportInput(parseJson(await readBody(req, INTAKE_LIMITS.bodyBytes)));
    const claimedId = parsed.content.reporter?.id;
    const reporterKey = user
      ? `user:${user.subject}`
      : typeof claimedId === 'string' && claimedId
        ? `anon:${claimedId.slice(0, 200)}`
        : `ip:${ip ?? 'unknown'}`;
    await w.limiter.checkReporter(app.id, reporterKey);

    const content = user ? { ...parsed.content, reporter: { ...parsed.content.reporter, id: user.subject, verified: true } } : parsed.content;
    // A retried send (same Idempotency-Key) is stored once; its repeat gets the report's id, not a second report.
    const idempotencyKey = parseIdempotencyKey(header(req, 'idempotency-key'));
    if (idempotencyKey) {
      const claim = await claimSubmission(deps.db, app.id, idempotencyKey);
      if (claim.kind === 'done') return sendJson(res, 200, { id: claim.reportId, duplicate: true });
    }
    let accepted: Awaited<ReturnType<typeof acceptReport>>;
    try {
      accepted = await acceptReport(deps, {
        app,
        source: 'widget',
        content,
        replyTo: { kind: 'widget' },
        reporterKey,
        attachments: parsed.attachments,
        actor: 'widget',
      });
    } catch (e) {
      if (idempotencyKey) await releaseSubmission(deps.db, app.id, idempotencyKey);
      throw e;
    }
    const { report, statusToken } = accepted;
    if (idempotencyKey) await completeSubmission(deps.db, app.id, idempotencyKey, report.id);
    deps.log.info({ reportId: report.id, appId: app.id, attachments: report.attachments.length, mode: user ? 'private' : 'public' }, 'Widget report received');
    sendJson(res, 201, { id: report.id, statusToken, statusUrl: `${deps.config.publicUrl}/api/v1/reports/${report.id}/status` });
  });

  router.add('OPTIONS', '/api/v1/reports/:id/status', async (req, res) => preflight(w, req, res, 'GET, OPTIONS'));
  router.add('GET', '/api/v1/reports/:id/status', async (req, res, { params }) => {
    const token = header(req, 'x-userz-status-token');
    const report = token ? await getReportByStatusToken(deps.db, params.id!, token) : null;
    if (!report) throw new UserzError('report_not_found', 'No such report, or the status token does not match');
    const origin = originOf(req);
    if (origin) {
      const app = await getApp(deps.db, report.appId);
      if (app?.origins.includes(origin)) allowOrigin(res, origin);
    }
    // Public facts only: the status word, the reporter's phase and the outcome's kind, with no
    // repository detail (no PR link, repo, run or branch name) since anyone with the token reads it.
    const phase = reporterPhase(report, await runOfReport(deps.db, report.id));
    const outcome = report.outcome
      ? report.outcome.kind === 'refused'
        ? { kind: 'refused', reason: report.outcome.reason }
        : { kind: report.outcome.kind }
      : null;
    // After the draft opened: `merged` or `closed` once a maintainer decided (issue 18).
    const review = await reviewOutcomeOfReport(deps.db, report.id);
    const status = review ?? (report.outcome ? report.outcome.kind : report.status);
    sendJson(res, 200, { id: report.id, status, phase, outcome }, { 'cache-control': 'no-store' });
  });

  router.add('GET', '/widget.js', async (_req, res) => serveScript(res, (await loadWidgetAssets()).widget));
  router.add('GET', '/widget/screenshot.js', async (_req, res) => serveScript(res, (await loadWidgetAssets()).screenshot));
}

const originNotAllowed = () => new UserzError('origin_not_allowed', "This page's origin is not on the App's allowlist");

async function preflight(w: WidgetRouteDeps, req: IncomingMessage, res: ServerResponse, methods: string): Promise<void> {
  const origin = originOf(req);
  if (!origin || !(await w.apps.isOriginKnown(origin))) throw originNotAllowed();
  answerPreflight(res, origin, methods);
}

function serveScript(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, {
    'content-type': 'application/javascript; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'public, max-age=300',
    // Any page may load the script; it carries no secret.
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
