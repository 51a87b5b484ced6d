// Shared setup for intake tests: a migrated database, a vault, one org with an API key,
// and the intake routes mounted on a real HTTP server on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ApiRoutes } from '../../src/api/index.js';
import { bearerToken, clientIp, Router } from '../../src/http/index.js';
import { createNotifier, registerIntakeRoutes, type IntakeDeps, type IntakeRoutes } from '../../src/intake/index.js';
import type { Notifier } from '../../src/pipeline/index.js';
import { ApiKeyVerifier, generateKeyringEntry, issueApiKey, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { createCache, LocalBlobStore, type Cache, type Db } from '../../src/store/index.js';
import { createTestOrg, openTestDb, type DbKind } from '../helpers/db.js';

export interface Harness {
  db: Db;
  vault: Vault;
  cache: Cache;
  blobs: LocalBlobStore;
  blobDir: string;
  orgId: string;
  apiKey: string;
  server: Server;
  url: string;
  routes: IntakeRoutes & { notifier: Notifier };
  deps: IntakeDeps;
  /** The /api/v1 registry the App routes are declared on (its OpenAPI document checks the API tests). */
  api: ApiRoutes;
  close(): Promise<void>;
}

export async function openHarness(opts: { db?: DbKind; config?: Partial<IntakeDeps['config']>; deps?: Partial<IntakeDeps> } = {}): Promise<Harness> {
  const db = await openTestDb(opts.db ?? 'pglite');
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Acme');
  const { key: apiKey } = await issueApiKey(db, orgId, { actor: 'test' });
  const cache = createCache({ kind: 'memory' }, `t${Math.random()}`);
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-intake-'));
  const blobs = new LocalBlobStore(blobDir);
  const log = pino({ level: 'silent' });
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const router = new Router(log);
  // As src/main.ts does: one verifier (the test's limits) behind one registry.
  const apiKeys = opts.deps?.apiKeys ?? new ApiKeyVerifier({ db, cache, limits: opts.deps?.apiKeyLimits });
  const api = new ApiRoutes(router, (req) => apiKeys.verify(bearerToken(req), clientIp(req, opts.deps?.trustProxy)));
  const deps: IntakeDeps = { db, cache, blobs, vault, log, config: { publicUrl: url, ...opts.config }, notifierFetch: fetch, api, ...opts.deps };
  // The notifier is the pipeline's port; intake implements it and src/main.ts connects it once. Tests call it directly.
  const routes = { ...registerIntakeRoutes(router, deps), notifier: createNotifier(deps) };
  server.on('request', (req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  return {
    db,
    vault,
    cache,
    blobs,
    blobDir,
    orgId,
    apiKey,
    server,
    url,
    routes,
    deps,
    api,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await routes.idle();
      await cache.close();
      await db.close();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

export async function countRows(db: Db, table: 'reports' | 'jobs' | 'apps' | 'slack_installations'): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(row!.n);
}
