import type { Router } from '../../http/index.js';
import type { AdminPagesDeps } from './admin-deps.js';
import { registerApiKeyPages } from './api-keys.js';
import { registerAppPages } from './apps.js';
import { registerAuditPages } from './audit.js';
import { registerRepoPages } from './repos.js';
import { registerSettingsPages, type SettingsSection } from './settings.js';
import { registerBillingSettings } from './settings-billing.js';
import { registerWebhookSettings } from './settings-webhooks.js';

export type { AdminPagesDeps } from './admin-deps.js';

/** The console's admin pages: Apps, repositories, API keys, the audit log and settings. */
export function registerAdminPages(router: Router, deps: AdminPagesDeps): void {
  registerAppPages(router, deps);
  registerRepoPages(router, deps);
  registerApiKeyPages(router, deps);
  registerAuditPages(router, deps);
  const sections: SettingsSection[] = [];
  if (deps.billing) sections.push(...registerBillingSettings(router, { ...deps, billing: deps.billing }));
  sections.push(registerWebhookSettings(router, deps));
  registerSettingsPages(router, deps, sections);
}
