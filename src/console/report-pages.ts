import type { Router } from '../http/index.js';
import { registerConsoleAssets } from './assets-route.js';
import { registerAttachmentRoute } from './pages/attachment.js';
import type { ConsolePagesDeps } from './pages/deps.js';
import { registerInboxPage } from './pages/inbox.js';
import { registerReportPage } from './pages/report.js';
import { registerRetentionActions } from './pages/retention.js';
import { registerReviewPages } from './pages/review.js';
import { registerRunPages } from './pages/runs.js';

/**
 * The console's report and run pages (issue 13): the inbox at `/`, a report with its
 * screenshot and attachments, the review queue, runs, and the console's own assets. Every
 * page reads through store functions scoped to the signed-in member's org; a signed-out
 * request is sent to /sign-in.
 */
export function registerConsolePages(router: Router, deps: ConsolePagesDeps): void {
  registerConsoleAssets(router);
  registerInboxPage(router, deps);
  registerReportPage(router, deps);
  registerAttachmentRoute(router, deps);
  registerReviewPages(router, deps);
  registerRunPages(router, deps);
  registerRetentionActions(router, deps);
}
