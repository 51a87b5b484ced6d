/**
 * Install links: how an org links a GitHub installation to itself, with proof.
 *
 *   POST /api/v1/github/install-links   (sk_ key)  → { url, expiresAt }
 *     The url is GitHub's install page for our App with a `state` that is HMAC-signed
 *     (server secret), names the org, expires after 15 minutes, and whose nonce is stored
 *     hashed so that it can be used once.
 *   GET /api/github/setup?installation_id=…&setup_action=install&state=…&code=…
 *     GitHub sends the installer here after installing (the App's callback URL, with
 *     "Request user authorization (OAuth) during installation" on). The state is checked
 *     and consumed, then the `code` proves who installed and that they administer the
 *     installation (./installer-proof.ts). Only then is the installation linked.
 *
 * An installation_id in a query string proves nothing by itself.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ApiRoutes } from '../../api/index.js';
import type { GitHubInstallConfig } from '../../config/index.js';
import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { consumeInstallState, linkInstallationToOrg, saveInstallState, type Db } from '../../store/index.js';
import { githubWebUrl, proveInstaller } from './installer-proof.js';

export const INSTALL_STATE_TTL_MS = 15 * 60_000;
const STATE_VERSION = 'v1';

export interface GitHubInstallDeps {
  db: Db;
  log: Logger;
  /** Absent when GITHUB_APP_SLUG / GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET are not set. */
  install?: GitHubInstallConfig;
  /** GITHUB_API_URL (GHES); undefined = github.com. */
  apiBaseUrl?: string;
}

interface StatePayload {
  nonce: string;
  orgId: string;
  expiresAt: number;
}

const notConfigured = () =>
  new UserzError(
    'github_install_links_not_configured',
    'GitHub install links are not configured on this server (GITHUB_APP_SLUG, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)',
  );

const badState = () =>
  new UserzError(
    'invalid_install_state',
    'This installation did not come from a valid install link, or the link was already used or has expired; ask for a new one (POST /api/v1/github/install-links)',
  );

const hashNonce = (nonce: string): string => createHash('sha256').update(nonce).digest('hex');

export function signInstallState(secret: string, payload: StatePayload): string {
  const body = Buffer.from(JSON.stringify({ n: payload.nonce, o: payload.orgId, e: payload.expiresAt })).toString('base64url');
  return `${STATE_VERSION}.${body}.${mac(secret, body)}`;
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(`userz:github-install-state:${body}`).digest('base64url');
}

/** Signature and expiry only; single use is the database's job (consumeInstallState). */
export function readInstallState(secret: string, state: string | null, now = Date.now()): StatePayload {
  const [version, body, signature, extra] = (state ?? '').split('.');
  if (version !== STATE_VERSION || !body || !signature || extra !== undefined) throw badState();
  const expected = Buffer.from(mac(secret, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw badState();
  let decoded: { n?: unknown; o?: unknown; e?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof decoded;
  } catch {
    throw badState();
  }
  if (typeof decoded.n !== 'string' || typeof decoded.o !== 'string' || typeof decoded.e !== 'number') throw badState();
  if (decoded.e <= now) throw badState();
  return { nonce: decoded.n, orgId: decoded.o, expiresAt: decoded.e };
}

/** GitHub's page that installs our App, carrying `state` through to the callback. */
function installPageUrl(apiBaseUrl: string | undefined, slug: string, state: string): string {
  const web = githubWebUrl(apiBaseUrl ?? null);
  const path = web === 'https://github.com' ? `/apps/${slug}/installations/new` : `/github-apps/${slug}/installations/new`;
  const url = new URL(path, web);
  url.searchParams.set('state', state);
  return url.toString();
}

function parseInstallationId(raw: string | null): number {
  if (!raw || !/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UserzError('invalid_installation_id', 'installation_id must be a positive integer');
  }
  return Number(raw);
}

/**
 * A single-use, 15-minute link to GitHub's install page for `orgId` (the API's
 * POST /api/v1/github/install-links and the console's repositories page).
 */
export async function createInstallLink(
  deps: Pick<GitHubInstallDeps, 'db' | 'log' | 'install' | 'apiBaseUrl'>,
  orgId: string,
  actor: string,
): Promise<{ url: string; expiresAt: Date }> {
  const install = deps.install;
  if (!install) throw notConfigured();
  const nonce = randomBytes(24).toString('base64url');
  const expiresAt = Date.now() + INSTALL_STATE_TTL_MS;
  await saveInstallState(deps.db, { nonceHash: hashNonce(nonce), orgId, createdBy: actor, expiresAt: new Date(expiresAt) });
  const state = signInstallState(install.stateSecret, { nonce, orgId, expiresAt });
  deps.log.info({ orgId }, 'GitHub install link created');
  return { url: installPageUrl(deps.apiBaseUrl, install.slug, state), expiresAt: new Date(expiresAt) };
}

export function registerGitHubInstallRoutes(router: Router, api: ApiRoutes, deps: GitHubInstallDeps): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/github/install-links',
      operationId: 'createGitHubInstallLink',
      tag: 'Repositories',
      summary: 'A single-use link that installs the GitHub App and links the chosen repositories to this org',
      permission: 'edit',
      responses: { 201: z.object({ url: z.string(), expiresAt: z.iso.datetime() }) },
      errors: ['github_install_links_not_configured'],
    })
    .handle(async ({ principal }) => {
      const link = await createInstallLink(deps, principal.orgId, principal.actor);
      return { status: 201, body: { url: link.url, expiresAt: link.expiresAt.toISOString() } };
    });

  router.add('GET', '/api/github/setup', async (_req, res, { url }) => {
    const install = deps.install;
    if (!install) throw notConfigured();
    const q = url.searchParams;
    const claim = readInstallState(install.stateSecret, q.get('state'));
    const action = q.get('setup_action');
    if (action === 'request') {
      throw new UserzError(
        'installation_pending_approval',
        'The installation waits for an owner of the GitHub account to approve it; the owner then opens a new install link',
      );
    }
    if (action !== 'install' && action !== 'update') throw new UserzError('invalid_setup_action', 'setup_action must be install or update');
    const installationId = parseInstallationId(q.get('installation_id'));
    const code = q.get('code');
    if (!code) {
      throw new UserzError(
        'github_user_authorization_missing',
        'GitHub sent no user authorization code: the App must have "Request user authorization (OAuth) during installation" enabled',
      );
    }
    // Consumed before GitHub is asked anything: a state works once, even if the proof fails.
    if (!(await consumeInstallState(deps.db, hashNonce(claim.nonce), claim.orgId))) throw badState();
    const proof = await proveInstaller({
      apiBaseUrl: deps.apiBaseUrl ?? null,
      clientId: install.clientId,
      clientSecret: install.clientSecret,
      code,
      installationId,
      log: deps.log,
    });
    const linked = await deps.db.transaction((tx) =>
      linkInstallationToOrg(tx, { installationId, orgId: claim.orgId, actor: `github_user:${proof.githubUserId}`, allowMove: false }),
    );
    deps.log.info({ orgId: claim.orgId, installationId, repos: linked.repos }, 'GitHub installation linked through an install link');
    sendPage(res, 200, `The GitHub installation for ${proof.account.login} is now linked to your Userz org. Its repositories can be linked to your Apps.`);
  });
}

function sendPage(res: ServerResponse, status: number, message: string): void {
  const escaped = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><meta charset="utf-8"><title>Userz</title><p>${escaped}</p>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
