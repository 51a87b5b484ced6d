// The console's admin pages in the real app (startTestApp: main.ts's wiring, the real
// ConsoleAuth) over a real database, with members signed in the real way (signedInMember).
import { ApiKeyVerifier, type Vault } from '../../src/security/index.js';
import type { BlobStore, Db } from '../../src/store/index.js';
import type { Role } from '../../src/tenant/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { consoleOrigin, signedInMember, type SignedInMember } from '../helpers/console-session.js';
import { createTestOrg, type DbKind } from '../helpers/db.js';

export interface AdminHarness {
  app: TestApp;
  db: Db;
  vault: Vault;
  blobs: BlobStore;
  url: string;
  /** The console's public URL (the widget snippet's script source, the Origin its forms send). */
  publicUrl: string;
  orgA: string;
  orgB: string;
  /** A verifier of its own over the same database (revocations are read from the row). */
  apiKeys: ApiKeyVerifier;
  signIn(orgId: string, role: Role): Promise<SignedInMember>;
  /** GET with the session cookie; the text of the answer. */
  get(who: SignedInMember, path: string): Promise<{ status: number; text: string; headers: Headers }>;
  /** A form post from the console's own origin with the session's CSRF token (unless `_csrf` is given). */
  post(
    who: SignedInMember,
    path: string,
    fields: Record<string, string | string[]>,
    opts?: { origin?: string },
  ): Promise<{ status: number; text: string; headers: Headers }>;
  close(): Promise<void>;
}

export async function openAdminHarness(opts: { db?: DbKind; env?: Record<string, string>; github?: boolean } = {}): Promise<AdminHarness> {
  const app = await startTestApp({ db: opts.db ?? 'pglite', env: opts.env, github: opts.github });
  const { db } = app.deps.store;
  const orgA = await createTestOrg(db, app.deps.vault, 'Acme');
  const orgB = await createTestOrg(db, app.deps.vault, 'Bravo');
  const origin = consoleOrigin(app);

  const request = async (who: SignedInMember, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${app.url}${path}`, { redirect: 'manual', ...init, headers: { cookie: who.cookie, ...(init.headers as Record<string, string>) } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  return {
    app,
    db,
    vault: app.deps.vault,
    blobs: app.deps.store.blobs,
    url: app.url,
    publicUrl: app.deps.config.publicUrl,
    orgA,
    orgB,
    apiKeys: new ApiKeyVerifier({ db, cache: app.deps.store.cache }),
    signIn: (orgId, role) => signedInMember(app, { orgId, role }),
    get: (who, path) => request(who, path),
    post: (who, path, fields, o = {}) => {
      const body = new URLSearchParams({ _csrf: who.csrfToken });
      for (const [k, v] of Object.entries(fields)) {
        body.delete(k);
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      }
      return request(who, path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: o.origin ?? origin },
        body: body.toString(),
      });
    },
    close: () => app.close(),
  };
}

/** The text of the first element with this id (secrets and snippets shown in a <pre>), HTML entities decoded. */
export function textOf(page: string, id: string): string | null {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page);
  return m ? decodeEntities(m[1]!) : null;
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|quot|amp|#39|#96);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&', '#39': "'", '#96': '`' })[e]!);
}
