import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { webApi } from '@slack/bolt';
import { UserzError, errorMessage } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { getApp, saveSlackInstallation } from '../../store/index.js';
import type { AppDirectory } from '../app-directory.js';
import type { IntakeDeps } from '../deps.js';

// Scopes the bot needs: the slash command and posting the outcome in the channel.
const BOT_SCOPES = ['commands', 'chat:write'];
const TICKET_TTL_MS = 24 * 3600_000;
const STATE_TTL_MS = 10 * 60_000;
const STATE_COOKIE = 'userz_slack_state';

export interface SlackInstallLinks {
  /** A signed link an org admin opens to connect a workspace to this App. */
  installUrlFor(appId: string): string;
}

/**
 * Multi-workspace install through Slack OAuth v2. An org admin gets a signed install
 * link for one App (the API); /slack/install turns it into a one-time `state` kept in the
 * cache and bound to the browser by a cookie; /slack/oauth_redirect checks both, trades
 * the code for a bot token (oauth.v2.access), stores the token encrypted with the org key,
 * and maps the workspace to the App.
 */
export function registerSlackInstallRoutes(router: Router, deps: IntakeDeps, apps: AppDirectory): SlackInstallLinks | null {
  const slack = deps.config.slack;
  if (!slack?.clientId || !slack.clientSecret) return null;
  const { clientId, clientSecret } = slack;
  const stateSecret = slack.stateSecret ?? slack.signingSecret;
  const redirectUri = `${deps.config.publicUrl}/slack/oauth_redirect`;
  const sign = (kind: string, payload: string) => createHmac('sha256', stateSecret).update(`${kind}:${payload}`).digest('base64url');

  const links: SlackInstallLinks = {
    installUrlFor(appId) {
      const payload = Buffer.from(JSON.stringify({ appId, exp: Date.now() + TICKET_TTL_MS })).toString('base64url');
      return `${deps.config.publicUrl}/slack/install?ticket=${payload}.${sign('ticket', payload)}`;
    },
  };

  router.add('GET', '/slack/install', async (_req, res, { url }) => {
    if (!url.searchParams.has('ticket')) {
      // Where the "not connected" chat message points: installing needs a link minted for one App.
      return sendPage(
        res,
        200,
        'To connect a Slack workspace to Userz, an admin of the product asks the Userz API for an install link (POST /api/v1/apps/<app id>/slack/install-url with the org API key) and opens it.',
      );
    }
    const appId = readTicket(url.searchParams.get('ticket'), (p) => sign('ticket', p));
    const nonce = randomBytes(18).toString('base64url');
    await deps.cache.set(`slack-state:${nonce}`, { appId }, STATE_TTL_MS);
    const state = `${nonce}.${sign('state', nonce)}`;
    const authorize = new URL('https://slack.com/oauth/v2/authorize');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('scope', BOT_SCOPES.join(','));
    authorize.searchParams.set('state', state);
    authorize.searchParams.set('redirect_uri', redirectUri);
    const secure = deps.config.publicUrl.startsWith('https:') ? '; Secure' : '';
    res.writeHead(302, {
      location: authorize.toString(),
      'set-cookie': `${STATE_COOKIE}=${nonce}; Path=/slack; HttpOnly; SameSite=Lax; Max-Age=${STATE_TTL_MS / 1000}${secure}`,
      'cache-control': 'no-store',
    });
    res.end();
  });

  router.add('GET', '/slack/oauth_redirect', async (req, res, { url }) => {
    if (url.searchParams.get('error')) return sendPage(res, 400, 'The Slack installation was cancelled.');
    const appId = await consumeState(req, url.searchParams.get('state'), deps, (n) => sign('state', n));
    const code = url.searchParams.get('code');
    if (!code) throw new UserzError('slack_oauth_failed', 'Slack did not send an authorization code');
    const app = await getApp(deps.db, appId);
    if (!app) throw new UserzError('app_not_found', 'The App this link was for no longer exists');

    const client = new webApi.WebClient(undefined, { slackApiUrl: deps.slackApiUrl, retryConfig: { retries: 0 } });
    let access: webApi.OauthV2AccessResponse;
    try {
      access = await client.oauth.v2.access({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: redirectUri });
    } catch (e) {
      deps.log.warn({ appId, err: errorMessage(e) }, 'Slack OAuth code exchange failed');
      throw new UserzError('slack_oauth_failed', 'Slack refused the installation; please try again');
    }
    const teamId = access.team?.id;
    if (!access.ok || !access.access_token || !teamId) throw new UserzError('slack_oauth_failed', 'Slack answered without a bot token');
    const botToken = access.access_token;
    await deps.db.transaction(async (tx) => {
      const botTokenSecretId = await deps.vault.storeSecret(app.orgId, 'slack_bot_token', botToken, tx);
      await saveSlackInstallation(
        tx,
        {
          teamId,
          appId: app.id,
          orgId: app.orgId,
          teamName: access.team?.name ?? null,
          botUserId: access.bot_user_id ?? null,
          botTokenSecretId,
          installedBy: access.authed_user?.id ?? null,
        },
        'slack:oauth',
      );
    });
    apps.forget();
    deps.log.info({ appId: app.id, teamId }, 'Slack workspace installed');
    res.setHeader('set-cookie', `${STATE_COOKIE}=; Path=/slack; HttpOnly; SameSite=Lax; Max-Age=0`);
    sendPage(res, 200, `Userz is now connected to this Slack workspace for ${app.name}. Use /userz in any channel to report a problem.`);
  });

  return links;
}

function readTicket(ticket: string | null, sign: (payload: string) => string): string {
  const bad = () =>
    new UserzError('invalid_install_link', 'This install link is not valid or has expired; ask for a new one (POST /api/v1/apps/:id/slack/install-url)');
  if (!ticket) throw bad();
  const [payload, mac] = ticket.split('.');
  if (!payload || !mac || !safeEqual(mac, sign(payload))) throw bad();
  let decoded: { appId?: unknown; exp?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof decoded;
  } catch {
    throw bad();
  }
  if (typeof decoded.appId !== 'string' || typeof decoded.exp !== 'number' || decoded.exp < Date.now()) throw bad();
  return decoded.appId;
}

async function consumeState(req: IncomingMessage, state: string | null, deps: IntakeDeps, sign: (nonce: string) => string): Promise<string> {
  const bad = () => new UserzError('invalid_oauth_state', 'The installation state is missing, expired or from another browser; start again');
  const [nonce, mac] = (state ?? '').split('.');
  if (!nonce || !mac || !safeEqual(mac, sign(nonce))) throw bad();
  if (readCookie(req, STATE_COOKIE) !== nonce) throw bad();
  const key = `slack-state:${nonce}`;
  const saved = await deps.cache.get<{ appId: string }>(key);
  if (!saved) throw bad();
  await deps.cache.delete(key); // one use only
  return saved.appId;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sendPage(res: ServerResponse, status: number, message: string): void {
  const escaped = message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><meta charset="utf-8"><title>Userz</title><p>${escaped}</p>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
