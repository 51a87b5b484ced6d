// The console's admin pages on a real HTTP server over a real database, signed in through a
// small ConsoleAuth built from memberPrincipal (the contract in src/console/context.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ConsoleAuth, ConsoleSession } from '../../src/console/context.js';
import { registerAdminPages, type AdminPagesDeps } from '../../src/console/pages/admin.js';
import { UserzError } from '../../src/errors.js';
import { Router } from '../../src/http/index.js';
import { registerIntakeRoutes, type IntakeDeps } from '../../src/intake/index.js';
import { ApiKeyVerifier, generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { createCache, LocalBlobStore, type Db } from '../../src/store/index.js';
import { memberPrincipal, type Role } from '../../src/tenant/index.js';
import { createTestOrg, openTestDb, type DbKind } from '../helpers/db.js';

export interface SignedIn {
  cookie: string;
  csrfToken: string;
  userId: string;
}

export interface AdminHarness {
  db: Db;
  vault: Vault;
  blobs: LocalBlobStore;
  url: string;
  orgA: string;
  orgB: string;
  apiKeys: ApiKeyVerifier;
  signIn(orgId: string, role: Role): SignedIn;
  /** GET with the session cookie; the text of the answer. */
  get(who: SignedIn, path: string): Promise<{ status: number; text: string; headers: Headers }>;
  /** A form post from the console's own origin with the session's CSRF token (unless `_csrf` is given). */
  post(who: SignedIn, path: string, fields: Record<string, string>, opts?: { origin?: string }): Promise<{ status: number; text: string; headers: Headers }>;
  close(): Promise<void>;
}

export async function openAdminHarness(
  opts: { db?: DbKind; config?: Partial<IntakeDeps['config']>; deps?: Partial<AdminPagesDeps> } = {},
): Promise<AdminHarness> {
  const db = await openTestDb(opts.db ?? 'pglite');
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgA = await createTestOrg(db, vault, 'Acme');
  const orgB = await createTestOrg(db, vault, 'Bravo');
  const cache = createCache({ kind: 'memory' }, `t${Math.random()}`);
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-console-'));
  const blobs = new LocalBlobStore(blobDir);
  const log = pino({ level: 'silent' });
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sessions = new Map<string, ConsoleSession>();
  const auth: ConsoleAuth = {
    async session(req: IncomingMessage) {
      const token = /(?:^|;\s*)t_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      return (token && sessions.get(token)) || null;
    },
    checkCsrf(req, session, token) {
      if (req.headers.origin !== url || token !== session.csrfToken) throw new UserzError('csrf_failed', 'The form did not come from this console');
    },
  };

  const router = new Router(log);
  const intake = registerIntakeRoutes(router, { db, cache, blobs, vault, log, config: { publicUrl: url, ...opts.config } });
  const apiKeys = new ApiKeyVerifier({ db, cache });
  registerAdminPages(router, { auth, db, vault, blobs, log, publicUrl: url, appAdmin: intake.appAdmin, apiKeys, github: {}, ...opts.deps });
  server.on('request', (req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });

  const request = async (who: SignedIn, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { cookie: `t_session=${who.cookie}`, ...(init.headers as Record<string, string>) },
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  return {
    db,
    vault,
    blobs,
    url,
    orgA,
    orgB,
    apiKeys,
    signIn(orgId, role) {
      const userId = `usr_${randomBytes(6).toString('hex')}`;
      const cookie = randomBytes(16).toString('hex');
      const csrfToken = randomBytes(16).toString('hex');
      sessions.set(cookie, {
        sessionId: cookie,
        user: { id: userId, email: `${role}@${orgId}.example`, name: role },
        memberships: [{ orgId, orgName: orgId === orgA ? 'Acme' : 'Bravo', role }],
        principal: memberPrincipal({ userId, orgId, role }),
        csrfToken,
      });
      return { cookie, csrfToken, userId };
    },
    get: (who, path) => request(who, path),
    post: (who, path, fields, o = {}) =>
      request(who, path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: o.origin ?? url },
        body: new URLSearchParams({ _csrf: who.csrfToken, ...fields }).toString(),
      }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await cache.close();
      await db.close();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

/** The text of the first element with this id (secrets and snippets shown in a <pre>), HTML entities decoded. */
export function textOf(page: string, id: string): string | null {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page);
  return m ? decodeEntities(m[1]!) : null;
}

export function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|quot|amp|#39|#96);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&', '#39': "'", '#96': '`' })[e]!);
}
