import { UserzError } from '../errors.js';
import type { Vault } from '../security/index.js';
import type { Db, Queryable } from '../store/index.js';
import { newId, randomBase62 } from '../store/index.js';
import { insertApp, lockRepoOfOrg, type App } from '../store/index.js';

export interface CreatedApp {
  app: App;
  /** The widget's public key `pub_…` (not a secret). */
  publicKey: string;
  /** Per-App HS256 secret for private-mode user tokens. Returned once, stored only encrypted. */
  signingSecret: string;
}

/**
 * Normalises an allowed origin: scheme + host [+ port], nothing else. The browser's
 * Origin header has exactly that shape, so the allowlist is compared by string equality.
 */
export function normalizeOrigin(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw invalidOrigin(input);
  }
  if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(input) || url.pathname !== '/' || !url.hostname) throw invalidOrigin(input);
  return url.origin;
}

const invalidOrigin = (input: string) =>
  new UserzError('invalid_origin', `Origin "${input.slice(0, 200)}" must be scheme://host[:port] with no path, query or credentials`);

export function normalizeOrigins(origins: string[]): string[] {
  if (origins.length > 50) throw new UserzError('invalid_origin', 'At most 50 origins per App');
  return [...new Set(origins.map(normalizeOrigin))];
}

/**
 * An App may link only a repo its own org owns. A repo with no org (a GitHub installation
 * nobody has linked yet) belongs to no one and can be linked by no one: it joins an org
 * only through `userz repos link-installation` or an install link (forge/github).
 */
export async function assertRepoOfOrg(tx: Queryable, repoId: string, orgId: string): Promise<void> {
  // FOR SHARE: a move of the repo to another org (which unlinks this org's Apps) waits for
  // this link, or this link waits for the move and then sees the repo's new org.
  if (!(await lockRepoOfOrg(tx, repoId, orgId))) throw new UserzError('repo_not_found', `No repo ${repoId} in this org`);
}

/** Creates an App with its public key and an encrypted signing secret, in one transaction. */
export async function createApp(
  db: Db,
  vault: Vault,
  input: { orgId: string; name: string; origins: string[]; repoId?: string | null; actor: string },
): Promise<CreatedApp> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw new UserzError('invalid_app_name', 'App name must be 1 to 200 characters');
  const origins = normalizeOrigins(input.origins);
  const publicKey = `pub_${randomBase62(24)}`;
  const signingSecret = `uzsig_${randomBase62(43)}`;
  const app = await db.transaction(async (tx) => {
    if (typeof input.repoId === 'string') await assertRepoOfOrg(tx, input.repoId, input.orgId);
    const signingSecretId = await vault.storeSecret(input.orgId, 'app_signing_secret', signingSecret, tx);
    return insertApp(tx, { id: newId('app'), orgId: input.orgId, name, publicKey, origins, signingSecretId, repoId: input.repoId || null }, input.actor);
  });
  return { app, publicKey, signingSecret };
}

/** What the API shows about an App: never secret ids. */
export interface AppDescription {
  id: string;
  orgId: string;
  name: string;
  publicKey: string;
  origins: string[];
  repoId: string | null;
  slack: { teamId: string; channelId: string | null } | null;
  discord: { guildId: string; channelId: string | null; botToken: 'stored' | null } | null;
  createdAt: string;
}

export function describeApp(app: App): AppDescription {
  return {
    id: app.id,
    orgId: app.orgId,
    name: app.name,
    publicKey: app.publicKey,
    origins: app.origins,
    repoId: app.repoId,
    slack: app.slackTeamId ? { teamId: app.slackTeamId, channelId: app.slackChannelId } : null,
    discord: app.discordGuildId
      ? { guildId: app.discordGuildId, channelId: app.discordChannelId, botToken: app.discordBotTokenSecretId ? 'stored' : null }
      : null,
    createdAt: app.createdAt.toISOString(),
  };
}
