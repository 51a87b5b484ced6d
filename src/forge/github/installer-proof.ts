/**
 * Proof that the person who just installed the GitHub App administers that installation,
 * from GitHub's user authorization during installation ("Request user authorization
 * (OAuth) during installation"): the `code` GitHub sends along is traded for a user token
 * (`POST /login/oauth/access_token`), and with that token
 *   - `GET /user/installations` must list the installation (GitHub's own warning: the
 *     `installation_id` in the redirect can be spoofed, the user's list cannot), and
 *   - the user must administer its account: be that user account, or an active admin
 *     (owner) of that organization (`GET /user/memberships/orgs/{org}`).
 * Read access to one repository of someone else's installation is therefore not enough.
 * The user token is used for these reads only and revoked at once; it is never stored.
 */
import { UserzError } from '../../errors.js';
import type { ForgeLogger } from '../interface.js';
import type { RetryPolicy } from '../retry.js';
import { GITHUB_API, GitHubHttp } from './http.js';

const PER_PAGE = 100;
const MAX_PAGES = 10;
const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

export interface InstallerProofInput {
  /** null = github.com; GHES: `https://host/api/v3`. */
  apiBaseUrl: string | null;
  clientId: string;
  clientSecret: string;
  code: string;
  installationId: number;
  log?: ForgeLogger;
}

export interface InstallerProof {
  githubUserId: number;
  account: { login: string; type: string };
}

interface Installation {
  id: number;
  account: { login: string; id: number; type: string } | null;
}

/** The web host that serves OAuth and the install page: github.com, or the GHES host. */
export function githubWebUrl(apiBaseUrl: string | null): string {
  if (!apiBaseUrl || new URL(apiBaseUrl).origin === GITHUB_API) return 'https://github.com';
  return new URL(apiBaseUrl).origin;
}

const notAdministered = () =>
  new UserzError(
    'installation_not_administered',
    'The GitHub user who authorized this does not administer that installation; an owner of the GitHub account must install the App from the install link',
  );

export async function proveInstaller(input: InstallerProofInput): Promise<InstallerProof> {
  const userToken = await exchangeCode(input);
  const api = new GitHubHttp({ baseUrl: input.apiBaseUrl, authorization: `Bearer ${userToken}`, retry: NO_RETRY });
  try {
    const installation = await findUserInstallation(api, input.installationId);
    if (!installation?.account) throw notAdministered();
    const user = await api.request<{ id: number; login: string }>('read the authorizing user', '/user');
    if (!(await administers(api, user, installation.account))) throw notAdministered();
    return { githubUserId: user.id, account: { login: installation.account.login, type: installation.account.type } };
  } finally {
    await revokeUserToken(input, userToken);
  }
}

async function exchangeCode(input: InstallerProofInput): Promise<string> {
  const failed = () => new UserzError('github_authorization_failed', 'GitHub did not confirm the user authorization; start again from a new install link');
  let answer: { access_token?: unknown; error?: unknown };
  try {
    const res = await fetch(`${githubWebUrl(input.apiBaseUrl)}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'userz' },
      body: JSON.stringify({ client_id: input.clientId, client_secret: input.clientSecret, code: input.code }),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw failed();
    }
    answer = (await res.json()) as typeof answer;
  } catch (e) {
    if (e instanceof UserzError) throw e;
    throw failed(); // the cause is dropped: it can hold the request, client secret included
  }
  if (typeof answer.access_token !== 'string' || answer.access_token.length === 0) throw failed();
  return answer.access_token;
}

async function findUserInstallation(api: GitHubHttp, installationId: number): Promise<Installation | null> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await api.request<{ installations?: Installation[] }>('list the user installations', '/user/installations', {
      query: { per_page: String(PER_PAGE), page: String(page) },
    });
    const list = answer.installations ?? [];
    const found = list.find((i) => i.id === installationId);
    if (found) return found;
    if (list.length < PER_PAGE) return null;
  }
  return null;
}

async function administers(api: GitHubHttp, user: { id: number; login: string }, account: { login: string; id: number; type: string }): Promise<boolean> {
  if (account.type === 'User') return account.id === user.id;
  if (account.type !== 'Organization') return false;
  let membership: { state?: string; role?: string } | null;
  try {
    membership = await api.find('read the user organization membership', `/user/memberships/orgs/${encodeURIComponent(account.login)}`);
  } catch (e) {
    // GitHub refusing to show the membership is no proof of it: fail closed.
    if (e instanceof UserzError && e.code === 'forge_forbidden') return false;
    throw e;
  }
  return membership?.state === 'active' && membership.role === 'admin';
}

/** `DELETE /applications/{client_id}/token`: the token is not needed past the proof. Best effort. */
async function revokeUserToken(input: InstallerProofInput, token: string): Promise<void> {
  const basic = Buffer.from(`${input.clientId}:${input.clientSecret}`).toString('base64');
  const api = new GitHubHttp({ baseUrl: input.apiBaseUrl, authorization: `Basic ${basic}`, retry: NO_RETRY });
  try {
    await api.request('revoke the user token', `/applications/${encodeURIComponent(input.clientId)}/token`, {
      method: 'DELETE',
      body: { access_token: token },
    });
  } catch (e) {
    // It still expires on its own (8 hours); the link itself does not depend on it.
    input.log?.warn({ code: e instanceof UserzError ? e.code : 'unknown' }, 'GitHub user token revocation failed');
  }
}
