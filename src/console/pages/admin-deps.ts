import type { Logger } from 'pino';
import type { RunCaps, SharedModel } from '../../billing/index.js';
import type { GitHubInstallConfig } from '../../config/index.js';
import type { AppAdmin } from '../../intake/index.js';
import type { ApiKeyVerifier, Vault } from '../../security/index.js';
import type { BlobStore, Db, ErasureCacheSubjects } from '../../store/index.js';
import type { ConsoleAuth, ConsoleSession } from '../context.js';
import { html, type Html } from '../html.js';

/** What the console's admin pages (Apps, repositories, API keys, audit log, settings) need. */
export interface AdminPagesDeps {
  auth: ConsoleAuth;
  db: Db;
  vault: Vault;
  blobs: BlobStore;
  log: Logger;
  /** The server's public URL: the widget snippet's script source. */
  publicUrl: string;
  /** The App changes the /api/v1/apps routes make, with the same checks. */
  appAdmin: AppAdmin;
  /** The process's one `sk_` verifier: a revocation also drops its cached verifications. */
  apiKeys: ApiKeyVerifier;
  /** GitHub install links (absent when GITHUB_APP_SLUG / client id / secret are not set) and GHES. */
  github: { install?: GitHubInstallConfig; apiBaseUrl?: string };
  /** Model settings, usage and caps (the settings page leaves them out when absent). */
  billing?: { shared?: SharedModel; sharedModel: boolean; runCaps: RunCaps; resolver?: { invalidate(orgId: string): void } };
  /** Deletion on request also removes the server cache's rate-limit entries for what it deleted (lifecycle/erase.ts). */
  forgetErasedCache?: (subjects: ErasureCacheSubjects) => Promise<unknown>;
  /** Tests only: accept `http://127.0.0.1…` webhook receivers, as the webhook API does under the same setting. */
  webhooks?: { allowLoopbackHttp?: boolean };
}

/** The hidden field every state-changing console form carries (checked by auth.checkCsrf). */
export function csrfField(session: ConsoleSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
}

/** A secret or code shown once, with a Copy button (console.js copies the element named by data-copy). */
export function shownOnce(id: string, label: string, value: string): Html {
  return html`<div class="once">
    <p><strong>${label}</strong> <span class="muted">(shown once: copy it now, it cannot be shown again)</span></p>
    <pre id="${id}" class="secret">${value}</pre>
    <button type="button" data-copy="${id}">Copy</button>
  </div>`;
}
