import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import pino from 'pino';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { claimJobs, type Db, type Job } from '../../src/store/index.js';
import { keyPrincipal } from '../../src/tenant/index.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  deliverWebhookJob,
  emitRunStateEvents,
  emitWebhookEvents,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  type WebhookDeliveryOptions,
  type WebhookEventType,
} from '../../src/webhooks/index.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';
import { documentedVerifier } from './verify-snippet.js';

const verify = documentedVerifier();
const HOUR = 3600_000;

/** What the receivers' names resolve to: public addresses for the nock'd receivers, private ones for the SSRF cases. */
const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'other.example.net': ['93.184.216.35'],
  'intranet.example.com': ['10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'split.example.com': ['93.184.216.36', '127.0.0.1'],
  'receiver.test': ['127.0.0.1'],
};
const resolve = async (host: string) => {
  const found = DNS[host];
  if (!found) throw new Error(`ENOTFOUND ${host}`);
  return found;
};

describe.each(DB_KINDS)('webhook deliveries (%s)', (kind) => {
  let db: Db;
  let vault: Vault;
  let orgA: string;
  let orgB: string;
  const admin = (orgId: string) => keyPrincipal({ id: `key_${orgId}`, orgId, scopes: ['admin'] });
  const reader = (orgId: string) => keyPrincipal({ id: `key_r_${orgId}`, orgId, scopes: ['read'] });

  beforeAll(async () => {
    db = await openTestDb(kind);
    vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgA = await createTestOrg(db, vault, 'a');
    orgB = await createTestOrg(db, vault, 'b');
    nock.disableNetConnect();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await db.close();
  });
  afterEach(async () => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
    // Each test starts with no delivery in flight.
    await db.query("UPDATE jobs SET done_at = now() WHERE kind = 'webhook' AND done_at IS NULL");
  });

  const endpoint = async (orgId: string, url: string, events: WebhookEventType[], opts: { allowLoopbackHttp?: boolean } = {}) =>
    createWebhookEndpoint({ db, vault, ...opts }, admin(orgId), { url, events });
  const emit = (orgId: string, type: WebhookEventType, now = new Date()) =>
    db.transaction((tx) => emitWebhookEvents(tx, [{ orgId, type, data: { reportId: 'rep_x', appId: 'app_x', source: 'widget' } }], now));
  const claim = (): Promise<Job[]> => claimJobs(db, { workerId: 'test', kinds: ['webhook'], limit: 10, leaseMs: 60_000 });
  const makeDue = () => db.query("UPDATE jobs SET run_at = now() WHERE kind = 'webhook' AND done_at IS NULL");
  const deliver = (job: Job, opts: WebhookDeliveryOptions = {}) => deliverWebhookJob({ db, vault, log: pino({ level: 'silent' }), resolve, ...opts }, job);
  const jobRow = async (id: number) =>
    (
      await db.query<{ done: boolean; later_than_10s: boolean; within_11s: boolean }>(
        `SELECT done_at IS NOT NULL AS done, run_at > now() + interval '10 seconds' AS later_than_10s, run_at < now() + interval '11 seconds' AS within_11s FROM jobs WHERE id = $1`,
        [id],
      )
    )[0]!;

  it("queues one delivery per subscribed endpoint of the event's org, only when the cause commits", async () => {
    const a1 = await endpoint(orgA, 'https://hooks.example.com/a1', ['report.received', 'run.pr_opened']);
    const a2 = await endpoint(orgA, 'https://other.example.net/a2', ['run.errored']);
    const b1 = await endpoint(orgB, 'https://hooks.example.com/b1', ['report.received']);
    await expect(
      db.transaction(async (tx) => {
        await emitWebhookEvents(tx, [{ orgId: orgA, type: 'report.received', data: { reportId: 'rep_rolled_back' } }]);
        throw new Error('the cause failed');
      }),
    ).rejects.toThrow('the cause failed');
    expect(await claim()).toEqual([]);

    await emit(orgA, 'report.received');
    const jobs = await claim();
    expect(jobs.map((j) => j.payload.endpointId)).toEqual([a1.endpoint.id]);
    expect(JSON.parse(String(jobs[0]!.payload.body))).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'report.received',
      created: expect.any(Number),
      data: { reportId: 'rep_x', appId: 'app_x', source: 'widget' },
    });
    for (const e of [a1, a2, b1]) await deleteWebhookEndpoint({ db }, admin(e === b1 ? orgB : orgA), e.endpoint.id);
  });

  it('turns the states a run enters into run events: opened, refused and errored only', async () => {
    const ep = await endpoint(orgA, 'https://hooks.example.com/runs', ['run.pr_opened', 'run.pr_failed', 'run.errored', 'report.needs_review']);
    const run = { id: 'run_states', orgId: orgA, appId: 'app_x', batchId: 'bat_none', prUrl: 'https://github.com/acme/app/pull/9', prNumber: 9 };
    for (const state of ['triaged', 'running', 'checking', 'rejected', 'pr_failed', 'errored', 'pr_opened'] as const) {
      await db.transaction((tx) => emitRunStateEvents(tx, run, state, `why_${state}`));
    }
    const events = (await claim()).map((j) => JSON.parse(String(j.payload.body)) as { type: string; data: Record<string, unknown> });
    // A claim's rows come back in no particular order.
    events.sort((x, y) => x.type.localeCompare(y.type));
    expect(events.map((e) => [e.type, e.data.reason])).toEqual([
      ['run.errored', 'why_errored'],
      ['run.pr_failed', 'why_pr_failed'],
      ['run.pr_opened', 'why_pr_opened'],
    ]);
    expect(events[2]!.data).toMatchObject({ prUrl: run.prUrl, prNumber: 9 });
    expect(events[1]!.data).not.toHaveProperty('prUrl');
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.endpoint.id);
  });

  it('signs a delivery so that the documented snippet verifies it, and logs it delivered', async () => {
    const { endpoint: ep, secret } = await endpoint(orgA, 'https://hooks.example.com/signed', ['run.pr_opened']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    await emit(orgA, 'run.pr_opened');
    const [job] = await claim();
    let seen: { headers: IncomingHttpHeaders; body: string } | undefined;
    nock('https://hooks.example.com')
      .post('/signed')
      .reply(function (_uri, body) {
        seen = { headers: this.req.headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
        return [204];
      });
    await deliver(job!);
    const header = String(seen!.headers['userz-signature']);
    const now = Math.floor(Date.now() / 1000);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(seen!.headers['userz-delivery-id']).toMatch(/^dlv_[0-9a-f]{24}$/);
    expect(seen!.headers['userz-event']).toBe('run.pr_opened');
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.body).toBe(job!.payload.body);
    expect(verify(secret, header, seen!.body, now)).toBe(true);
    expect(verify(secret, header, Buffer.from(seen!.body), now)).toBe(true);
    expect(verify(secret, header, seen!.body.replace('run.pr_opened', 'run.pr_failed'), now)).toBe(false);
    expect(verify(`${secret}x`, header, seen!.body, now)).toBe(false);
    expect(verify(secret, header, seen!.body, now + 301)).toBe(false);
    expect(verify(secret, undefined, seen!.body, now)).toBe(false);

    expect((await jobRow(job!.id)).done).toBe(true);
    const log = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 10 });
    expect(log.items).toEqual([
      expect.objectContaining({
        deliveryId: seen!.headers['userz-delivery-id'],
        event: 'run.pr_opened',
        attempt: 1,
        statusCode: 204,
        error: null,
        delivered: true,
        final: true,
      }),
    ]);
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
  });

  it('retries a 500 with backoff under the same delivery id, then succeeds', async () => {
    const { endpoint: ep } = await endpoint(orgA, 'https://hooks.example.com/flaky', ['run.errored']);
    await emit(orgA, 'run.errored');
    const ids: string[] = [];
    const bodies: string[] = [];
    const record = function (this: { req: { headers: IncomingHttpHeaders } }, _uri: string, body: unknown) {
      ids.push(String(this.req.headers['userz-delivery-id']));
      bodies.push(typeof body === 'string' ? body : JSON.stringify(body));
    };
    nock('https://hooks.example.com')
      .post('/flaky')
      .reply(function (uri, body) {
        record.call(this, uri, body);
        return [500, 'down'];
      });
    const [first] = await claim();
    await deliver(first!);
    const afterFirst = await jobRow(first!.id);
    expect(afterFirst).toMatchObject({ done: false, later_than_10s: true }); // attempt 1 waits 15 to 30 s
    expect(await claim()).toEqual([]); // not due yet

    await makeDue();
    nock('https://hooks.example.com')
      .post('/flaky')
      .reply(function (uri, body) {
        record.call(this, uri, body);
        return [500];
      });
    const [second] = await claim();
    expect(second!.id).toBe(first!.id);
    await deliver(second!);

    await makeDue();
    nock('https://hooks.example.com')
      .post('/flaky')
      .reply(function (uri, body) {
        record.call(this, uri, body);
        return [200, 'ok'];
      });
    const [third] = await claim();
    expect(third!.attempts).toBe(3);
    await deliver(third!);

    expect(new Set(ids).size).toBe(1);
    expect(new Set(bodies).size).toBe(1);
    expect((await jobRow(first!.id)).done).toBe(true);
    const log = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 10 });
    expect(log.items.map((d) => [d.attempt, d.statusCode, d.delivered, d.final, d.deliveryId])).toEqual([
      [3, 200, true, true, ids[0]],
      [2, 500, false, false, ids[0]],
      [1, 500, false, false, ids[0]],
    ]);
    expect(log.items[2]!.error).toBe('HTTP 500');
    // Pages of one attempt each walk the same log.
    const page1 = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 2 });
    const page2 = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 2, cursor: page1.nextCursor });
    expect([...page1.items, ...page2.items].map((d) => d.attempt)).toEqual([3, 2, 1]);
    expect(page2.nextCursor).toBeNull();
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
  });

  it('gives up 24 hours after the event, the last wait capped at what is left of them (fake clock)', async () => {
    const { endpoint: ep } = await endpoint(orgA, 'https://hooks.example.com/gone', ['run.errored']);
    const created = new Date();
    await emit(orgA, 'run.errored', created);
    const at = (ms: number) => () => new Date(created.getTime() + ms);

    nock('https://hooks.example.com').post('/gone').reply(503);
    const [job] = await claim();
    await deliver(job!, { now: at(24 * HOUR - 10_000) });
    expect(await jobRow(job!.id)).toMatchObject({ done: false, within_11s: true });

    await makeDue();
    nock('https://hooks.example.com').post('/gone').reply(503);
    const [again] = await claim();
    await deliver(again!, { now: at(24 * HOUR + 1_000) });
    expect((await jobRow(job!.id)).done).toBe(true);
    await makeDue();
    expect(await claim()).toEqual([]);
    const log = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 10 });
    expect(log.items[0]).toMatchObject({ attempt: 2, statusCode: 503, delivered: false, final: true, error: 'HTTP 503; gave up 24 h after the event' });
    expect(log.items[1]).toMatchObject({ attempt: 1, final: false });
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
  });

  it('refuses to connect to a name that resolves to a private, link-local or loopback address', async () => {
    const eps = [];
    for (const host of ['intranet.example.com', 'metadata.example.com', 'split.example.com']) {
      eps.push((await endpoint(orgA, `https://${host}/hook`, ['pr.merged'])).endpoint);
    }
    await emit(orgA, 'pr.merged');
    const jobs = await claim();
    expect(jobs).toHaveLength(3);
    // nock has no interceptor for these hosts and the network is off: any connection attempt would log request_failed.
    for (const job of jobs) await deliver(job);
    for (const ep of eps) {
      const [attempt] = (await listDeliveries({ db }, reader(orgA), ep.id, { limit: 10 })).items;
      expect(attempt).toMatchObject({ statusCode: null, delivered: false, final: false, error: expect.stringMatching(/^address_not_allowed/) });
      await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
    }
  });

  it('refuses endpoint URLs that are not https or name private addresses and local names', async () => {
    for (const url of [
      'http://hooks.example.com/x',
      'ftp://hooks.example.com/x',
      'https://10.1.2.3/x',
      'https://127.0.0.1/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://169.254.169.254/latest/meta-data',
      'https://0x7f.1/x',
      'https://localhost/x',
      'https://db.internal/x',
      'https://user:pass@hooks.example.com/x',
      'not a url',
    ]) {
      await expect(endpoint(orgA, url, ['pr.merged'])).rejects.toMatchObject({ code: 'webhook_url_refused' });
    }
    await expect(createWebhookEndpoint({ db, vault }, admin(orgA), { url: 'https://hooks.example.com/x', events: [] })).rejects.toMatchObject({
      code: 'invalid_payload',
    });
  });

  it('delivers over plain http to a loopback receiver only when allowed, connecting to the address it checked', async () => {
    const received: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    nock.enableNetConnect((host) => host === `receiver.test:${port}`);
    try {
      // receiver.test has no real DNS entry: the request reaches the server only through the checked, pinned address.
      const { endpoint: ep } = await endpoint(orgA, `http://receiver.test:${port}/hook`, ['pr.merged'], { allowLoopbackHttp: true });
      await emit(orgA, 'pr.merged');
      const [job] = await claim();
      await deliver(job!); // without allowLoopbackHttp: refused
      expect(received).toHaveLength(0);
      await makeDue();
      const [again] = await claim();
      await deliver(again!, { allowLoopbackHttp: true });
      expect(received).toHaveLength(1);
      expect(received[0]!.host).toBe(`receiver.test:${port}`);
      const log = await listDeliveries({ db }, reader(orgA), ep.id, { limit: 10 });
      expect(log.items.map((d) => [d.statusCode, d.error?.split(':')[0] ?? null])).toEqual([
        [200, null],
        [null, 'url_not_https'],
      ]);
      await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
    } finally {
      nock.disableNetConnect();
      await new Promise((r) => server.close(r));
    }
  });

  it('ends the pending deliveries of a deleted endpoint without another attempt', async () => {
    const { endpoint: ep } = await endpoint(orgA, 'https://hooks.example.com/deleted', ['report.needs_review']);
    await emit(orgA, 'report.needs_review');
    const [job] = await claim();
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
    await deliver(job!); // nock has no interceptor: a request would fail the afterEach
    expect((await jobRow(job!.id)).done).toBe(true);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_attempts WHERE endpoint_id = $1', [ep.id]);
    expect(row!.n).toBe(0);
  });

  it("keeps each org's endpoints and delivery logs to itself, and reads need read while writes need admin", async () => {
    const { endpoint: ep } = await endpoint(orgA, 'https://hooks.example.com/mine', ['pr.merged']);
    expect((await listWebhookEndpoints({ db }, reader(orgA), { limit: 10 })).items.map((e) => e.id)).toEqual([ep.id]);
    expect((await listWebhookEndpoints({ db }, reader(orgB), { limit: 10 })).items).toEqual([]);
    await expect(getWebhookEndpoint({ db }, reader(orgB), ep.id)).rejects.toMatchObject({ code: 'webhook_endpoint_not_found' });
    await expect(listDeliveries({ db }, reader(orgB), ep.id, { limit: 10 })).rejects.toMatchObject({ code: 'webhook_endpoint_not_found' });
    await expect(deleteWebhookEndpoint({ db }, admin(orgB), ep.id)).rejects.toMatchObject({ code: 'webhook_endpoint_not_found' });
    await expect(deleteWebhookEndpoint({ db }, reader(orgA), ep.id)).rejects.toMatchObject({ code: 'insufficient_scope' });
    await expect(createWebhookEndpoint({ db, vault }, reader(orgA), { url: 'https://hooks.example.com/r', events: ['pr.merged'] })).rejects.toMatchObject({
      code: 'insufficient_scope',
    });
    expect(await getWebhookEndpoint({ db }, reader(orgA), ep.id)).toMatchObject({ id: ep.id, url: 'https://hooks.example.com/mine', events: ['pr.merged'] });
    // Org B's event never reaches org A's endpoint.
    await emit(orgB, 'pr.merged');
    expect(await claim()).toEqual([]);
    await deleteWebhookEndpoint({ db }, admin(orgA), ep.id);
  });
});
