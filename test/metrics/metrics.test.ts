import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUserz } from '../../src/cli/start.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { Metrics } from '../../src/metrics/index.js';
import { executeRun, getRun, insertRun } from '../../src/pipeline/index.js';
import { enqueueJob, newId, queueStats, upsertRepo } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';
import { send } from '../intake/http-client.js';

const ORIGIN = 'https://shop.example';
const TOKEN = randomBytes(24).toString('base64url');
const REPORT_TEXT = `Checkout is broken ${randomBytes(8).toString('hex')}`;

const scrape = (url: string, token?: string) =>
  send(`${url}/metrics`, { method: 'GET', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

/** The value of one sample line (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function expectUnauthorized(res: Awaited<ReturnType<typeof send>>) {
  expect(res.status).toBe(401);
  expect(res.json.error.code).toBe('invalid_metrics_token');
  expect(res.json.error.message).toBe('Metrics token is missing or wrong');
  expect(res.text).not.toContain('userz_');
}

describe('GET /metrics on the main port', () => {
  let t: TestApp;
  let app: CreatedApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { USERZ_METRICS_TOKEN: TOKEN, SLACK_SIGNING_SECRET: 'slack-signing-secret-for-metrics' } });
    const orgId = await createTestOrg(t.deps.store.db, t.deps.vault, 'Acme');
    app = await createApp(t.deps.store.db, t.deps.vault, { orgId, name: 'Shop', origins: [ORIGIN], actor: 'test' });
  });
  afterAll(async () => t.close());

  const report = (origin: string) =>
    send(`${t.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin },
      body: JSON.stringify({ text: REPORT_TEXT, page: { url: `${origin}/cart?email=jane@shop.example` } }),
    });

  it('answers 401 invalid_metrics_token without a token, with a wrong one, and with another scheme', async () => {
    expectUnauthorized(await scrape(t.url));
    expectUnauthorized(await scrape(t.url, `${TOKEN}x`));
    expectUnauthorized(await scrape(t.url, TOKEN.slice(0, -1)));
    expectUnauthorized(await send(`${t.url}/metrics`, { method: 'GET', headers: { authorization: `Basic ${TOKEN}` } }));
  });

  it('answers 200 in the Prometheus text format with the token; every metric is prefixed userz_', async () => {
    const res = await scrape(t.url, TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = res.text
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(name).toMatch(/^userz_/);
    for (const name of [
      'userz_http_requests_total',
      'userz_intake_accepted_total',
      'userz_queue_depth',
      'userz_runs_total',
      'userz_signature_failures_total',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('counts an accepted and a refused report by route pattern, status and error code, and never shows their content', async () => {
    const accepted = await report(ORIGIN);
    expect(accepted.status).toBe(201);
    const refused = await report('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('origin_not_allowed');
    // A raw path with an id in it is counted under its route pattern.
    const status = await send(`${t.url}/api/v1/reports/${accepted.json.id}/status`, { method: 'GET', headers: { origin: ORIGIN } });
    expect(status.status).toBeGreaterThanOrEqual(200);

    const text = (await scrape(t.url, TOKEN)).text;
    expect(sample(text, 'userz_intake_accepted_total{channel="widget"}')).toBe(1);
    expect(sample(text, 'userz_intake_refused_total{channel="widget",code="origin_not_allowed"}')).toBe(1);
    expect(sample(text, 'userz_http_requests_total{method="POST",route="POST /api/v1/reports",status="201"}')).toBe(1);
    expect(sample(text, 'userz_http_requests_total{method="POST",route="POST /api/v1/reports",status="403"}')).toBe(1);
    expect(sample(text, `userz_http_requests_total{method="GET",route="GET /api/v1/reports/:id/status",status="${status.status}"}`)).toBe(1);
    // The earlier refused scrapes are counted too; the one in flight is not yet.
    expect(sample(text, 'userz_http_requests_total{method="GET",route="GET /metrics",status="401"}')).toBe(4);

    for (const leak of [REPORT_TEXT, 'jane@shop.example', 'evil.example', ORIGIN, app.publicKey, TOKEN, accepted.json.id, accepted.json.statusToken]) {
      expect(text).not.toContain(leak);
    }
  });

  it('counts an unknown path as unmatched, not by its raw path', async () => {
    const res = await send(`${t.url}/no/such/${randomBytes(4).toString('hex')}`, { method: 'GET' });
    expect(res.status).toBe(404);
    const text = (await scrape(t.url, TOKEN)).text;
    expect(sample(text, 'userz_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(text).not.toContain('/no/such');
  });

  it('counts signature failures by provider', async () => {
    const gitlab = await send(`${t.url}/api/gitlab/webhooks`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(gitlab.status).toBe(401);
    expect(gitlab.json.error.code).toBe('bad_signature');
    const github = await send(`${t.url}/api/github/webhooks`, {
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'd1', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: '{"zen":"hi"}',
    });
    expect(github.status).toBe(401);
    expect(github.json.error.code).toBe('bad_signature');
    const slack = await send(`${t.url}/slack/events`, {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-slack-signature': `v0=${'0'.repeat(64)}`,
      },
      body: `command=%2Fuserz&text=${encodeURIComponent(REPORT_TEXT)}`,
    });
    expect(slack.status).toBe(401);
    expect(slack.json.error.code).toBe('bad_signature');
    const text = (await scrape(t.url, TOKEN)).text;
    expect(sample(text, 'userz_signature_failures_total{provider="gitlab"}')).toBe(1);
    expect(sample(text, 'userz_signature_failures_total{provider="github"}')).toBe(1);
    expect(sample(text, 'userz_signature_failures_total{provider="slack"}')).toBe(1);
    expect(sample(text, 'userz_signature_failures_total{provider="discord"}')).toBeUndefined();
    // A chat request refused at the edge is an intake refusal of its channel, and never an acceptance.
    expect(sample(text, 'userz_intake_refused_total{channel="slack",code="bad_signature"}')).toBe(1);
    expect(sample(text, 'userz_intake_accepted_total{channel="slack"}')).toBeUndefined();
    expect(text).not.toContain(REPORT_TEXT);
  });

  it('reads queue depth and the oldest due job age by kind at scrape time', async () => {
    const db = t.deps.store.db;
    const before = sample((await scrape(t.url, TOKEN)).text, 'userz_queue_depth{kind="run"}');
    expect(before).toBe(0);
    await enqueueJob(db, 'run', 'run:metrics-a', {}, { runAt: new Date(Date.now() - 3_600_000) });
    await enqueueJob(db, 'run', 'run:metrics-b', {});
    await enqueueJob(db, 'notify', 'notify:metrics-later', {}, { runAt: new Date(Date.now() + 3_600_000) });
    const text = (await scrape(t.url, TOKEN)).text;
    expect(sample(text, 'userz_queue_depth{kind="run"}')).toBe(2);
    expect(sample(text, 'userz_queue_depth{kind="notify"}')).toBe(1);
    // The accepted report's triage job.
    expect(sample(text, 'userz_queue_depth{kind="triage"}')).toBe(1);
    expect(sample(text, 'userz_queue_oldest_job_age_seconds{kind="run"}')).toBeGreaterThanOrEqual(3600);
    // Scheduled later, so nothing of that kind is waiting yet.
    expect(sample(text, 'userz_queue_oldest_job_age_seconds{kind="notify"}')).toBe(0);
    await db.query(`UPDATE jobs SET done_at = now() WHERE key LIKE 'run:metrics-%'`);
    expect(sample((await scrape(t.url, TOKEN)).text, 'userz_queue_depth{kind="run"}')).toBe(0);
  });
});

describe('GET /metrics without a configured token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('is closed to every caller: 401 invalid_metrics_token', async () => {
    expectUnauthorized(await scrape(t.url));
    expectUnauthorized(await scrape(t.url, 'anything-at-all-here'));
  });
});

describe('USERZ_METRICS_PORT', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { USERZ_METRICS_TOKEN: TOKEN, USERZ_METRICS_PORT: '0' } });
  });
  afterAll(async () => t.close());

  it('serves /metrics on its own port only; the main port answers 404 not_found', async () => {
    const ms = t.metricsServer!;
    expect(ms.port).not.toBe(t.server.port);
    expectUnauthorized(await scrape(ms.url));
    expectUnauthorized(await scrape(ms.url, 'wrong-token-wrong-token'));
    const ok = await scrape(ms.url, TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE userz_http_requests_total counter');

    const main = await scrape(t.url, TOKEN);
    expect(main.status).toBe(404);
    expect(main.json.error.code).toBe('not_found');
    // The main port's traffic is what the metrics port reports.
    expect(sample((await scrape(ms.url, TOKEN)).text, 'userz_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);

    const other = await send(`${ms.url}/healthz`, { method: 'GET' });
    expect(other.status).toBe(404);
    expect(other.json.error.code).toBe('not_found');
  });
});

describe.each(DB_KINDS)('queueStats on %s', (kind) => {
  it('counts not-done jobs per kind in one query, and the oldest due job age', async () => {
    const db = await openTestDb(kind);
    try {
      expect(await queueStats(db)).toEqual([]);
      await enqueueJob(db, 'triage', 'triage:q1', {}, { runAt: new Date(Date.now() - 120_000) });
      await enqueueJob(db, 'triage', 'triage:q2', {});
      await enqueueJob(db, 'triage', 'triage:q3', {});
      await db.query(`UPDATE jobs SET done_at = now() WHERE key = 'triage:q3'`);
      const stats = await queueStats(db);
      expect(stats).toHaveLength(1);
      expect(stats[0]).toMatchObject({ kind: 'triage', depth: 2 });
      expect(stats[0]!.oldestAgeSeconds).toBeGreaterThanOrEqual(120);
    } finally {
      await db.close();
    }
  });
});

describe('run metrics from the pipeline', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { USERZ_METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => t.close());

  it('counts a run that ended by its final state and observes its duration', async () => {
    const db = t.deps.store.db;
    const orgId = await createTestOrg(db, t.deps.vault, 'Acme');
    const tokenSecretId = await t.deps.vault.storeSecret(orgId, 'gitlab_token', 'glpat-metrics-project-token');
    const repo = await upsertRepo(
      db,
      { orgId, forge: 'gitlab', externalId: '4242', fullName: 'acme/app', baseUrl: 'https://gitlab.example.com', defaultBranch: 'main', tokenSecretId },
      'test',
    );
    const created = await createApp(db, t.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
    const batchId = newId('bat');
    const run = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO batches (id, app_id, fingerprint, summary, report_count, open_until) VALUES ($1, $2, 'fp', 'Total is wrong', 1, now())`, [
        batchId,
        created.app.id,
      ]);
      await tx.query(`INSERT INTO reports (id, org_id, app_id, source, content, batch_id, status) VALUES ($1, $2, $3, 'widget', $4, $5, 'triaged')`, [
        newId('rep'),
        orgId,
        created.app.id,
        JSON.stringify({ text: REPORT_TEXT }),
        batchId,
      ]);
      return insertRun(tx, { orgId, appId: created.app.id, batchId, repoId: repo.id, state: 'triaged' });
    });
    await executeRun(t.deps.pipeline, run.id, { finalAttempt: true });
    // The sandbox is off in the test app: the run starts, then ends errored.
    expect(await getRun(db, run.id)).toMatchObject({ state: 'errored', stateReason: 'sandbox_disabled' });

    const text = (await scrape(t.url, TOKEN)).text;
    expect(sample(text, 'userz_runs_total{outcome="errored"}')).toBe(1);
    expect(sample(text, 'userz_run_duration_seconds_count{outcome="errored"}')).toBe(1);
    expect(sample(text, 'userz_runs_total{outcome="pr_opened"}')).toBeUndefined();
    expect(text).not.toContain(REPORT_TEXT);
    expect(text).not.toContain('glpat-metrics-project-token');
  });
});

describe('Metrics', () => {
  it('counts guardrail rejections by rule id, model tokens and cost by purpose, and reads the pool size at scrape time', async () => {
    let warm = 2;
    const m = new Metrics({ poolSize: () => warm });
    m.guardrailRejected('workflow-files');
    m.guardrailRejected('workflow-files');
    m.guardrailRejected('a rule id from a policy file, with spaces');
    m.modelUsage({ purpose: 'agent', inputTokens: 1200, outputTokens: 300, costUsd: 0.25 });
    m.sandboxStarted(0.4);
    let text = (await m.render()).body;
    expect(sample(text, 'userz_guardrail_rejections_total{rule="workflow-files"}')).toBe(2);
    expect(sample(text, 'userz_guardrail_rejections_total{rule="custom"}')).toBe(1);
    expect(text).not.toContain('with spaces');
    expect(sample(text, 'userz_model_tokens_total{purpose="agent",direction="input"}')).toBe(1200);
    expect(sample(text, 'userz_model_tokens_total{purpose="agent",direction="output"}')).toBe(300);
    expect(sample(text, 'userz_model_cost_usd_total{purpose="agent"}')).toBe(0.25);
    expect(sample(text, 'userz_sandbox_start_duration_seconds_count')).toBe(1);
    expect(sample(text, 'userz_sandbox_start_duration_seconds_bucket{le="0.5"}')).toBe(1);
    expect(sample(text, 'userz_sandbox_start_duration_seconds_bucket{le="0.25"}')).toBe(0);
    expect(sample(text, 'userz_sandbox_pool_size')).toBe(2);
    warm = 0;
    text = (await m.render()).body;
    expect(sample(text, 'userz_sandbox_pool_size')).toBe(0);
  });
});

describe('userz start with USERZ_METRICS_PORT', () => {
  it('serves /metrics on the metrics port with the token, counts the main port traffic there, and not on the main port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'userz-metrics-'));
    const config = loadConfig({ USERZ_DATA_DIR: dataDir, PORT: '0', USERZ_SANDBOX: 'off', USERZ_METRICS_TOKEN: TOKEN, USERZ_METRICS_PORT: '0' });
    const started = await startUserz(config, createLogger({ level: 'silent' }));
    try {
      const main = started.server!;
      const metricsOnly = started.metricsServer!;
      expect(metricsOnly.port).not.toBe(main.port);
      const onMain = await scrape(main.url, TOKEN);
      expect(onMain.status).toBe(404);
      expect(onMain.json.error.code).toBe('not_found');
      expect((await send(`${main.url}/healthz`, { method: 'GET' })).status).toBe(200);
      expectUnauthorized(await scrape(metricsOnly.url, 'not-the-token-at-all'));
      const text = (await scrape(metricsOnly.url, TOKEN)).text;
      expect(sample(text, 'userz_http_requests_total{method="GET",route="GET /healthz",status="200"}')).toBe(1);
      expect(sample(text, 'userz_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
      expect(sample(text, 'userz_queue_depth{kind="triage"}')).toBe(0);
    } finally {
      await started.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a metrics token shorter than 16 characters and a port out of range at boot', () => {
    expect(() => loadConfig({ USERZ_METRICS_TOKEN: 'short' })).toThrow(/USERZ_METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ USERZ_METRICS_PORT: '70000' })).toThrow(/USERZ_METRICS_PORT must be a port between 0 and 65535/);
  });
});
