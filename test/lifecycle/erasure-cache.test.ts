// Deletion on request also removes the cache entries keyed by what it deleted: intake
// rate-limit buckets of the reporter and of the App, the failed link-code bucket of the
// App's chat workspace and the failed-verification bucket of the org's sk_ keys. Others stay.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAILED_LINK_ATTEMPTS } from '../../src/intake/chat-links.js';
import { DEFAULT_RATE_LIMITS, forgetErasedCacheEntries } from '../../src/intake/index.js';
import { eraseSubject } from '../../src/lifecycle/index.js';
import { opsDeps } from '../../src/main.js';
import { runOperation } from '../../src/ops/index.js';
import {
  DEFAULT_API_KEY_LIMITS,
  generateKeyringEntry,
  issueApiKey,
  KeyringMasterKey,
  RateLimiter,
  Vault,
  type RateLimitCheck,
} from '../../src/security/index.js';
import { createCache, LocalBlobStore, newId, type BlobStore, type Cache, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { signedInMember } from '../helpers/console-session.js';
import { createTestOrg, openTestDb, TEST_REDIS_URL } from '../helpers/db.js';
import { send } from '../intake/http-client.js';

/** What the bucket of the current window counts (0 when it is gone). */
async function bucketCount(cache: Cache, check: RateLimitCheck): Promise<number> {
  const now = Date.now();
  const windowStart = Math.floor(now / check.rule.windowMs) * check.rule.windowMs;
  return cache.count(`rl:${check.rule.name}:${check.subject}:${windowStart}`);
}

describe.each(['memory', 'redis'] as const)('erasure clears cache entries (%s cache)', (cacheKind) => {
  let db: Db;
  let cache: Cache;
  let dir: string;
  let blobs: BlobStore;
  let orgId: string;
  let otherOrgId: string;

  beforeEach(async () => {
    db = await openTestDb('pglite');
    cache = createCache(cacheKind === 'redis' ? { kind: 'redis', url: TEST_REDIS_URL } : { kind: 'memory' }, `test-erase-${newId('key')}`);
    dir = await mkdtemp(join(tmpdir(), 'userz-erase-cache-'));
    blobs = new LocalBlobStore(dir);
    const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgId = await createTestOrg(db, vault, 'acme');
    otherOrgId = await createTestOrg(db, vault, 'globex');
  });
  afterEach(async () => {
    await cache.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function seedApp(org: string, slackTeam: string): Promise<string> {
    const id = newId('app');
    await db.query('INSERT INTO apps (id, org_id, name, public_key, slack_team_id) VALUES ($1, $2, $3, $4, $5)', [id, org, 'Shop', `pub_${id}`, slackTeam]);
    return id;
  }
  async function seedReport(appId: string, org: string, reporterKey: string): Promise<void> {
    await db.query(`INSERT INTO reports (id, org_id, app_id, source, content, reporter_key) VALUES ($1, $2, $3, 'slack', '{"text":"x"}', $4)`, [
      newId('rep'),
      org,
      appId,
      reporterKey,
    ]);
  }

  it("removes the reporter's, the App's and the org's buckets with them, and keeps everyone else's", async () => {
    const appId = await seedApp(orgId, 'T0ACME');
    const otherApp = await seedApp(otherOrgId, 'T0GLOBEX');
    await seedReport(appId, orgId, 'slack:U0ALICE');
    await seedReport(appId, orgId, 'slack:U0BOB');
    await seedReport(otherApp, otherOrgId, 'slack:U0CAROL');
    const key = await issueApiKey(db, orgId, { actor: 'test' });
    const otherKey = await issueApiKey(db, otherOrgId, { actor: 'test' });

    const reporter = (app: string, k: string): RateLimitCheck => ({ rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${app}:${k}` });
    const perApp = (app: string): RateLimitCheck => ({ rule: DEFAULT_RATE_LIMITS.perApp, subject: app });
    const perPublicKey = (app: string): RateLimitCheck => ({ rule: DEFAULT_RATE_LIMITS.perPublicKey, subject: app });
    const link = (w: string): RateLimitCheck => ({ rule: FAILED_LINK_ATTEMPTS, subject: `slack:${w}` });
    const keyFailures = (prefix: string): RateLimitCheck => ({ rule: DEFAULT_API_KEY_LIMITS.failuresPerPrefix, subject: prefix });
    const all = [
      reporter(appId, 'slack:U0ALICE'),
      reporter(appId, 'slack:U0BOB'),
      reporter(otherApp, 'slack:U0CAROL'),
      perApp(appId),
      perApp(otherApp),
      perPublicKey(appId),
      perPublicKey(otherApp),
      link('T0ACME'),
      link('T0GLOBEX'),
      keyFailures(key.prefix),
      keyFailures(otherKey.prefix),
    ];
    const limiter = new RateLimiter(cache);
    for (const check of all) await limiter.hit([check]);
    const counts = async () => Promise.all(all.map((c) => bucketCount(cache, c)));
    expect(await counts()).toEqual(all.map(() => 1));

    await eraseSubject({ db, blobs, forgetCache: (s) => forgetErasedCacheEntries(cache, s) }, { kind: 'reporter', reporter: 'U0ALICE' }, 'test');
    expect(await counts()).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);

    await eraseSubject({ db, blobs, forgetCache: (s) => forgetErasedCacheEntries(cache, s) }, { kind: 'app', appId }, 'test');
    expect(await counts()).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1]);

    await eraseSubject({ db, blobs, forgetCache: (s) => forgetErasedCacheEntries(cache, s) }, { kind: 'org', orgId }, 'test');
    expect(await counts()).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('leaves the cache alone when the caller gives none (the CLI), and deletes the rows all the same', async () => {
    const appId = await seedApp(orgId, 'T0ACME');
    await seedReport(appId, orgId, 'slack:U0ALICE');
    const check: RateLimitCheck = { rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${appId}:slack:U0ALICE` };
    await new RateLimiter(cache).hit([check]);
    const result = await eraseSubject({ db, blobs }, { kind: 'reporter', reporter: 'U0ALICE' }, 'test');
    expect(result.counts.reports).toBe(1);
    expect(await bucketCount(cache, check)).toBe(1);
  });
});

describe('POST /api/v1/data/delete', () => {
  let t: TestApp;
  afterAll(async () => t?.close());

  it("removes the deleted reporter's intake bucket in the server's cache, and keeps another reporter's", async () => {
    t = await startTestApp();
    const db = t.deps.store.db;
    const orgId = await createTestOrg(db, t.deps.vault, 'acme');
    const appId = newId('app');
    await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [appId, orgId, 'Shop', `pub_${appId}`]);
    for (const reporterKey of ['slack:U0ALICE', 'slack:U0BOB']) {
      await db.query(`INSERT INTO reports (id, org_id, app_id, source, content, reporter_key) VALUES ($1, $2, $3, 'slack', '{"text":"x"}', $4)`, [
        newId('rep'),
        orgId,
        appId,
        reporterKey,
      ]);
    }
    const alice: RateLimitCheck = { rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${appId}:slack:U0ALICE` };
    const bob: RateLimitCheck = { rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${appId}:slack:U0BOB` };
    await new RateLimiter(t.deps.store.cache).hit([alice, bob]);
    const admin = await issueApiKey(db, orgId, { actor: 'test', scopes: ['read', 'write', 'admin'] });

    const res = await send(`${t.url}/api/v1/data/delete`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.key}` },
      body: JSON.stringify({ subject: { reporter: 'U0ALICE' } }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ deleted: true, subject: 'reporter', counts: { reports: 1 } });
    expect(await bucketCount(t.deps.store.cache, alice)).toBe(0);
    expect(await bucketCount(t.deps.store.cache, bob)).toBe(1);
  });
});

describe('deletion from the console and from the userz data delete operation', () => {
  let t: TestApp;
  afterAll(async () => t?.close());

  /** One org, one App, reports from Alice and Bob through Slack, and a bucket of each in the server's cache. */
  async function seed(app: TestApp): Promise<{ orgId: string; alice: RateLimitCheck; bob: RateLimitCheck }> {
    const db = app.deps.store.db;
    const orgId = await createTestOrg(db, app.deps.vault, `org-${newId('app')}`);
    const appId = newId('app');
    await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [appId, orgId, 'Shop', `pub_${appId}`]);
    for (const reporterKey of ['slack:U0ALICE', 'slack:U0BOB']) {
      await db.query(`INSERT INTO reports (id, org_id, app_id, source, content, reporter_key) VALUES ($1, $2, $3, 'slack', '{"text":"x"}', $4)`, [
        newId('rep'),
        orgId,
        appId,
        reporterKey,
      ]);
    }
    const alice: RateLimitCheck = { rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${appId}:slack:U0ALICE` };
    const bob: RateLimitCheck = { rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${appId}:slack:U0BOB` };
    await new RateLimiter(app.deps.store.cache).hit([alice, bob]);
    return { orgId, alice, bob };
  }

  it("an owner's deletion in the console removes the reporter's bucket and keeps another reporter's", async () => {
    t = await startTestApp();
    const { orgId, alice, bob } = await seed(t);
    const owner = await signedInMember(t, { orgId, role: 'owner' });
    const body = new URLSearchParams({ _csrf: owner.csrfToken, kind: 'reporter', reporter: 'U0ALICE', confirm: 'U0ALICE' });
    const res = await fetch(`${t.url}/settings/erase`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: owner.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.deps.config.publicUrl).origin },
      body: body.toString(),
    });
    expect(res.status).toBe(200);
    expect(await bucketCount(t.deps.store.cache, alice)).toBe(0);
    expect(await bucketCount(t.deps.store.cache, bob)).toBe(1);
  });

  it('the data.delete operation (the CLI, or the admin endpoint) removes it from the cache it was given', async () => {
    const { orgId, alice, bob } = await seed(t);
    const out = await runOperation(opsDeps(t.deps), 'data.delete', { reporter: 'U0ALICE', org: orgId, confirm: true });
    expect(out).toMatchObject({ deleted: true, counts: { reports: 1 } });
    expect(await bucketCount(t.deps.store.cache, alice)).toBe(0);
    expect(await bucketCount(t.deps.store.cache, bob)).toBe(1);
  });
});
