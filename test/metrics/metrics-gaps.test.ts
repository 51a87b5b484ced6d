// Metrics the HTTP edge alone cannot see: classifier tokens and cost, chat refusals answered
// inside a 200, and shed requests (answered before any router saw them) under their route.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { Router, startHttpServer, type RunningServer } from '../../src/http/index.js';
import { acceptReport, createApp } from '../../src/intake/index.js';
import { createProbot } from '../../src/main.js';
import { Metrics } from '../../src/metrics/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { generateKeyringEntry } from '../../src/security/index.js';
import { getApp, updateAppLinks } from '../../src/store/apps.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { send } from '../intake/http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-metric-gaps';
const DISCORD_APP = '900000000000000001';
const DISCORD_GUILD = '800000000000000001';
const discordKeys = generateKeyPairSync('ed25519');
// The raw 32-byte key is the last 32 bytes of the SPKI DER encoding.
const DISCORD_PUBLIC_KEY = discordKeys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

/** The value of one sample line (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const rendered = async (m: Metrics) => (await m.render()).body;

describe('metrics from inside the app', () => {
  let t: TestApp;
  let orgId: string;
  let appId: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: { SLACK_SIGNING_SECRET: SIGNING_SECRET, DISCORD_APPLICATION_ID: DISCORD_APP, DISCORD_PUBLIC_KEY },
      // Two reports per reporter in a window of ten years (fixed windows start at multiples of their length: none rolls over mid-test).
      intake: { rateLimits: { perReporter: { name: 'intake:reporter', limit: 2, windowMs: 10 * 365 * 24 * 3600_000 } } },
    });
    orgId = await createTestOrg(t.deps.store.db, t.deps.vault, 'Acme');
    appId = (await createApp(t.deps.store.db, t.deps.vault, { orgId, name: 'Shop', origins: [], actor: 'test' })).app.id;
    await updateAppLinks(
      t.deps.store.db,
      orgId,
      appId,
      { slackTeamId: 'T0METRICS', discordGuildId: DISCORD_GUILD, discordChannelId: '700000000000000001' },
      'test',
    );
  });
  afterAll(async () => t.close());

  it("counts the classifier call's tokens and cost under purpose classifier", async () => {
    const app = (await getApp(t.deps.store.db, appId))!;
    const { report } = await acceptReport(
      { db: t.deps.store.db, blobs: t.deps.store.blobs },
      { app, source: 'api', content: { text: 'The cart total is wrong.' }, replyTo: { kind: 'api' }, reporterKey: null, actor: 'test' },
    );
    const classifier = new ScriptedModelClient(
      [{ content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'A wrong total' }), usage: { inputTokens: 123, outputTokens: 45 } }],
      'gpt-4.1-mini',
    );
    await triageReport({ ...t.deps.pipeline, classifier }, report.id);
    expect(classifier.remaining).toBe(0);
    const text = await rendered(t.deps.metrics);
    expect(sample(text, 'userz_model_tokens_total{purpose="classifier",direction="input"}')).toBe(123);
    expect(sample(text, 'userz_model_tokens_total{purpose="classifier",direction="output"}')).toBe(45);
    // At the price table's gpt-4.1-mini rates: 0.4 and 1.6 USD per million tokens.
    expect(sample(text, 'userz_model_cost_usd_total{purpose="classifier"}')).toBeCloseTo((123 * 0.4 + 45 * 1.6) / 1e6, 12);
  });

  it('counts a Slack refusal answered inside a 200 ephemeral message as refused, with its code', async () => {
    const body = new URLSearchParams({
      team_id: 'T0METRICS',
      channel_id: 'C0CHAN',
      user_id: 'U0BOB',
      user_name: 'bob',
      command: '/userz',
      text: 'x'.repeat(9 * 1024),
      response_url: 'https://hooks.slack.com/commands/T0/1/abc',
      trigger_id: '1.2.3',
      api_app_id: 'A0APP',
    }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
    const res = await send(`${t.url}/slack/events`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toContain('longer than');
    const text = await rendered(t.deps.metrics);
    expect(sample(text, 'userz_intake_refused_total{channel="slack",code="text_too_long"}')).toBe(1);
    expect(sample(text, 'userz_intake_accepted_total{channel="slack"}')).toBeUndefined();
  });

  it('counts a Discord refusal answered inside a 200 ephemeral message as refused, with its code', async () => {
    const command = (n: number) =>
      JSON.stringify({
        id: `1000000000000000${String(n).padStart(2, '0')}`,
        application_id: DISCORD_APP,
        type: 2,
        token: `interaction-token-${n}`,
        version: 1,
        guild_id: DISCORD_GUILD,
        channel_id: '700000000000000001',
        channel: { id: '700000000000000001', type: 0 },
        member: { user: { id: '600000000000000001', username: 'alice' } },
        data: { id: '500', name: 'userz', type: 1, options: [{ name: 'report', type: 1, options: [{ name: 'text', type: 3, value: `Broken ${n}` }] }] },
      });
    const post = (body: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = sign(null, Buffer.from(`${ts}${body}`), discordKeys.privateKey).toString('hex');
      return send(`${t.url}/discord/interactions`, {
        headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': ts },
        body,
      });
    };
    // The reporter's limit is 2: the third is refused inside a 200.
    for (let n = 1; n <= 2; n++) expect((await post(command(n))).json.data.content).toContain('Received: report');
    const res = await post(command(3));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(res.json.data.content).toContain('Too many reports');
    const text = await rendered(t.deps.metrics);
    expect(sample(text, 'userz_intake_refused_total{channel="discord",code="rate_limited"}')).toBe(1);
    expect(sample(text, 'userz_intake_accepted_total{channel="discord"}')).toBe(2);
  });
});

describe('shed requests in the metrics', () => {
  let server: RunningServer;
  const metrics = new Metrics();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  // Resolved when a request of that path is being served (holding its class's one slot).
  const arrivals = new Map<string, () => void>();
  const serving = (path: string) => new Promise<void>((r) => arrivals.set(path, r));
  const reportServed = serving('/api/v1/reports');
  const slackServed = serving('/slack/events');

  beforeAll(async () => {
    const config = loadConfig({ USERZ_DATA_DIR: '/nonexistent-userz-test', USERZ_MASTER_KEY: generateKeyringEntry(1), PORT: '0', USERZ_SANDBOX: 'off' });
    const log = pino({ level: 'silent' });
    const held = async (req: IncomingMessage, res: ServerResponse) => {
      arrivals.get(req.url ?? '')?.();
      req.resume();
      await gate;
      res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    };
    server = await startHttpServer({
      probot: createProbot(config, log),
      appFn: (_app, { addHandler }) => {
        const router = new Router(log).add('POST', '/api/v1/reports', held).add('POST', '/slack/events', held);
        addHandler(router.handle);
      },
      log,
      port: 0,
      host: '127.0.0.1',
      shed: {
        limits: {
          ingest: { inFlight: 1, queue: 0 },
          chat: { inFlight: 1, queue: 0 },
          webhooks: { inFlight: 1, queue: 0 },
          api: { inFlight: 1, queue: 0 },
          console: { inFlight: 1, queue: 0 },
        },
        waitMs: 10_000,
      },
      onRequest: metrics.observeRequest,
    });
  });
  afterAll(async () => server.close());

  it('counts a shed report under its route with 503, and a shed Slack command as a chat refusal inside a 200', async () => {
    const first = send(`${server.url}/api/v1/reports`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    await reportServed;
    const shed = await send(`${server.url}/api/v1/reports`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(shed.status).toBe(503);
    const slack = () => send(`${server.url}/slack/events`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    const chatHeld = slack();
    await slackServed;
    const chatShed = await slack();
    expect(chatShed.status).toBe(200);
    expect(chatShed.json.response_type).toBe('ephemeral');
    open();
    expect((await first).status).toBe(201);
    expect((await chatHeld).status).toBe(201);

    const text = await rendered(metrics);
    expect(sample(text, 'userz_http_requests_total{method="POST",route="POST /api/v1/reports",status="503"}')).toBe(1);
    expect(sample(text, 'userz_http_requests_total{method="POST",route="POST /api/v1/reports",status="201"}')).toBe(1);
    expect(sample(text, 'userz_intake_refused_total{channel="widget",code="overloaded"}')).toBe(1);
    expect(sample(text, 'userz_intake_refused_total{channel="slack",code="overloaded"}')).toBe(1);
    expect(text).not.toContain('route="unmatched"');
  });
});
