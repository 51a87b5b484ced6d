import { errorMessage } from '../errors.js';
import type { Router } from '../http/index.js';
import { AppAdmin } from './app-admin.js';
import { AppDirectory } from './app-directory.js';
import { registerAppApiRoutes } from './apps-api.js';
import type { IntakeDeps } from './deps.js';
import { registerDiscordRoutes } from './discord/interactions.js';
import { IntakeLimiter } from './rate-limits.js';
import { registerSlackCommandRoutes } from './slack/command.js';
import { registerSlackInstallRoutes } from './slack/install.js';
import { registerWidgetRoutes } from './widget/routes.js';
import { UserTokenVerifier } from './widget/user-token.js';
import { loadWidgetAssets } from './widget/assets.js';

export type { IntakeDeps } from './deps.js';
export { createApp, type CreatedApp } from './apps.js';
export type { AppAdmin, ChatLinkCode } from './app-admin.js';
export { INTAKE_OPS } from './ops.js';
export { acceptReport } from './accept.js';
export { createNotifier, messageFor, publicOutcome } from './notify.js';
/** The pipeline's port that createNotifier implements (declared in pipeline/deps.ts). */
export type { Notifier } from '../pipeline/index.js';
export { DEFAULT_RATE_LIMITS } from './limits.js';
export { forgetErasedCacheEntries } from './erase-cache.js';
export { USERZ_COMMAND } from './discord/command.js';

export interface IntakeRoutes {
  /** Resolves when background follow-ups (Discord) have finished; for tests and shutdown. */
  idle(): Promise<void>;
  /** Every change to an App (the App API uses it; the console's App pages too). */
  appAdmin: AppAdmin;
}

/**
 * Mounts every intake route on the router: the App API, the widget (script, ingest,
 * status), Slack (/slack/events, install, OAuth redirect) and Discord interactions.
 * Slack and Discord routes exist only when configured.
 */
export function registerIntakeRoutes(router: Router, deps: IntakeDeps): IntakeRoutes {
  const apps = new AppDirectory(deps.db);
  const limiter = new IntakeLimiter(deps);
  const slackInstall = registerSlackInstallRoutes(router, deps, apps);
  const appAdmin = new AppAdmin(deps, apps, slackInstall);
  registerAppApiRoutes(router, deps, appAdmin);
  registerWidgetRoutes(router, { deps, apps, limiter, userTokens: new UserTokenVerifier(deps.vault) });
  const slack = registerSlackCommandRoutes(router, deps, limiter, apps);
  const discord = registerDiscordRoutes(router, deps, limiter, apps);
  // Load (or build) the widget now so the first page view is not the one that waits, and
  // a missing prebuilt bundle shows up in the boot log rather than on a customer's page.
  loadWidgetAssets().catch((e: unknown) => deps.log.warn({ err: errorMessage(e) }, 'Widget script is not available: run scripts/build-widget.mjs'));
  return { idle: async () => void (await Promise.all([slack.idle(), discord.idle()])), appAdmin };
}
