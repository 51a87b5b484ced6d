import nock from 'nock';
import { OrgModelResolver, getModelSettings, saveModelSettings } from '../../src/billing/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { listAudit, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { seedApp, seedReport } from './seed.js';

const OPENAI = 'https://api.openai.com';
const ANTHROPIC = 'https://api.anthropic.com';
const KEY_A = 'sk-orgA-openai-7f3c1d2e9b8a4c6d5e0f';
const KEY_B = 'sk-ant-orgB-anthropic-2b9d8c7e6f5a4b3c';
const KEY_C = 'sk-orgC-gateway-5c4b3a2d1e0f9a8b';
const BAD_KEY = 'sk-orgA-wrong-0000111122223333aaaa';
const SERVER_KEY = 'sk-server-shared-9a8b7c6d5e4f3a2b';
const ALL_KEYS = [KEY_A, KEY_B, KEY_C, BAD_KEY, SERVER_KEY];

const BENIGN = { label: 'benign', confidence: 0.97, reason: 'A checkout bug.' };

const modelList = (...ids: string[]) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1, owned_by: 'x' })) });
const anthropicModel = (id: string) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' });
const chatCompletion = (content: string, usage = { prompt_tokens: 200, completion_tokens: 20 }) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4.1-mini',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
  usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
});

async function reportState(db: Db, reportId: string): Promise<{ status: string; reason: string | null }> {
  const [row] = await db.query<{ status: string; state_reason: string | null }>(
    'SELECT r.status, runs.state_reason FROM reports r JOIN runs ON runs.batch_id = r.batch_id WHERE r.id = $1',
    [reportId],
  );
  return { status: row!.status, reason: row!.state_reason };
}

/** Every place a key could leak to: the log, the audit log, the ledger, the settings rows and whatever else the test collected. */
async function expectNoKeyIn(app: TestApp, extra: string[]): Promise<void> {
  const db = app.deps.store.db;
  const audit = JSON.stringify(await listAudit(db));
  const ledger = JSON.stringify(await db.query('SELECT * FROM spend_ledger'));
  const settings = JSON.stringify(await db.query('SELECT * FROM org_model_settings'));
  const haystack = [app.logText(), audit, ledger, settings, ...extra].join('\n');
  for (const key of ALL_KEYS) expect(haystack).not.toContain(key);
  // Not even a recognisable part of one.
  for (const key of ALL_KEYS) expect(haystack).not.toContain(key.slice(-12));
}

describe('bring your own model (Postgres)', () => {
  let app: TestApp;
  let db: Db;
  let api: ApiClient;
  const answers: string[] = [];
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
    db = app.deps.store.db;
    api = await apiClient(app.url);
  });
  afterAll(async () => app.close());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  async function orgWithKeys(name: string): Promise<{ orgId: string; admin: string; read: string }> {
    const orgId = await createTestOrg(db, app.deps.vault, name);
    const admin = (await issueApiKey(db, orgId, { actor: 'test', scopes: ['admin'] })).key;
    const read = (await issueApiKey(db, orgId, { actor: 'test', scopes: ['read'] })).key;
    return { orgId, admin, read };
  }

  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await api.call(method, path, { key, body });
    answers.push(res.text);
    return res;
  };

  it('two orgs with different providers triage at the same time, each provider seeing only its own org’s key', async () => {
    const a = await orgWithKeys('org-a');
    const b = await orgWithKeys('org-b');

    nock(OPENAI)
      .get('/v1/models')
      .matchHeader('authorization', `Bearer ${KEY_A}`)
      .reply(200, modelList('gpt-4.1', 'gpt-4.1-mini', 'o4-mini'));
    const savedA = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai',
      agentModel: 'gpt-4.1',
      classifierModel: 'gpt-4.1-mini',
      apiKey: KEY_A,
    });
    expect(savedA.status).toBe(200);
    expect(savedA.json).toMatchObject({ source: 'org', provider: 'openai', keySet: true, checkedAt: expect.any(String) });

    nock(ANTHROPIC).get('/v1/models/claude-sonnet-4-5').matchHeader('authorization', `Bearer ${KEY_B}`).reply(200, anthropicModel('claude-sonnet-4-5'));
    nock(ANTHROPIC).get('/v1/models/claude-haiku-4-5').matchHeader('authorization', `Bearer ${KEY_B}`).reply(200, anthropicModel('claude-haiku-4-5'));
    const savedB = await call('PUT', '/api/v1/model-settings', b.admin, {
      provider: 'anthropic',
      agentModel: 'claude-sonnet-4-5',
      classifierModel: 'claude-haiku-4-5',
      apiKey: KEY_B,
    });
    expect(savedB.json).toMatchObject({ source: 'org' });

    const repA = await seedReport(db, a.orgId, await seedApp(db, a.orgId), 'The checkout button does nothing.');
    const repB = await seedReport(db, b.orgId, await seedApp(db, b.orgId), 'The cart total is wrong.');
    const seen: Array<{ provider: string; auth: unknown }> = [];
    nock(OPENAI)
      .post('/v1/chat/completions')
      .reply(function () {
        seen.push({ provider: 'openai', auth: this.req.headers.authorization });
        return [200, chatCompletion(JSON.stringify(BENIGN), { prompt_tokens: 1000, completion_tokens: 50 })];
      });
    nock(ANTHROPIC)
      .post('/v1/messages')
      .reply(function () {
        seen.push({ provider: 'anthropic', auth: this.req.headers.authorization });
        return [
          200,
          {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: 'claude-haiku-4-5',
            content: [{ type: 'tool_use', id: 'tu_1', name: 'triage_classification', input: BENIGN }],
            stop_reason: 'tool_use',
            usage: { input_tokens: 900, output_tokens: 40, cache_read_input_tokens: 300 },
          },
        ];
      });
    await Promise.all([triageReport(app.deps.pipeline, repA), triageReport(app.deps.pipeline, repB)]);

    expect(seen.sort((x, y) => x.provider.localeCompare(y.provider))).toEqual([
      { provider: 'anthropic', auth: `Bearer ${KEY_B}` },
      { provider: 'openai', auth: `Bearer ${KEY_A}` },
    ]);
    expect(await reportState(db, repA)).toEqual({ status: 'triaged', reason: 'benign' });
    expect(await reportState(db, repB)).toEqual({ status: 'triaged', reason: 'benign' });
    const ledger = await db.query<{
      org_id: string;
      report_id: string;
      provider: string;
      model: string;
      input_tokens: string;
      cached_tokens: string;
      cost_usd: string;
    }>(
      "SELECT org_id, report_id, provider, model, input_tokens, cached_tokens, cost_usd FROM spend_ledger WHERE purpose = 'classifier' AND org_id = ANY($1) ORDER BY provider",
      [[a.orgId, b.orgId]],
    );
    expect(ledger.map((r) => [r.org_id, r.report_id, r.provider, r.model, Number(r.input_tokens), Number(r.cached_tokens), Number(r.cost_usd)])).toEqual([
      // claude-haiku-4-5: (900 + 300 cached read) input, 300 of them at 0.1, 900 at 1, 40 output at 5 USD/MTok
      [b.orgId, repB, 'anthropic', 'claude-haiku-4-5', 1200, 300, (900 * 1 + 300 * 0.1 + 40 * 5) / 1e6],
      // gpt-4.1-mini: 1000 input at 0.4, 50 output at 1.6
      [a.orgId, repA, 'openai', 'gpt-4.1-mini', 1000, 0, (1000 * 0.4 + 50 * 1.6) / 1e6],
    ]);
    const usage = await call('GET', '/api/v1/usage', a.read);
    expect(usage.status).toBe(200);
    expect(usage.json.spent).toMatchObject({ calls: 1, inputTokens: 1000, outputTokens: 50, costUsd: 0.00048 });

    const got = await call('GET', '/api/v1/model-settings', b.read);
    expect(got.json).toEqual({
      source: 'org',
      provider: 'anthropic',
      baseUrl: null,
      agentModel: 'claude-sonnet-4-5',
      classifierModel: 'claude-haiku-4-5',
      keySet: true,
      checkedAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // The clients the pipeline holds serialise without their key.
    const models = await (app.deps.pipeline.models as OrgModelResolver).forOrg(a.orgId);
    answers.push(JSON.stringify(models), JSON.stringify(models?.agentFor('run_x')), JSON.stringify(models?.classifierFor('rep_x')));
    await expectNoKeyIn(app, answers);
  });

  it('says clearly why a key was not saved: rejected, unknown model, unreachable endpoint, bad base URL; and keeps the old key', async () => {
    const a = await orgWithKeys('org-errors');
    nock(OPENAI)
      .get('/v1/models')
      .matchHeader('authorization', `Bearer ${BAD_KEY}`)
      .reply(401, { error: { message: `Incorrect API key provided: ${BAD_KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    const rejected = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai',
      agentModel: 'gpt-4.1',
      classifierModel: 'gpt-4.1-mini',
      apiKey: BAD_KEY,
    });
    expect([rejected.status, rejected.json.error.code]).toEqual([400, 'model_key_rejected']);
    expect(rejected.json.error.message).toMatch(/refused the API key \(HTTP 401\)/);

    nock(OPENAI).get('/v1/models').matchHeader('authorization', `Bearer ${KEY_A}`).reply(200, modelList('gpt-4.1'));
    const unknown = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai',
      agentModel: 'gpt-4.1',
      classifierModel: 'gpt-9-mini',
      apiKey: KEY_A,
    });
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'model_unknown']);
    expect(unknown.json.error.message).toContain('"gpt-9-mini"');

    nock('https://llm.gateway.example').get('/v1/models').replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    const unreachable = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai-compatible',
      baseUrl: 'https://llm.gateway.example/v1',
      agentModel: 'llama-70b',
      classifierModel: 'llama-8b',
      apiKey: KEY_C,
    });
    expect([unreachable.status, unreachable.json.error.code]).toEqual([502, 'model_endpoint_unreachable']);
    expect(unreachable.json.error.message).toContain('https://llm.gateway.example/v1');

    const plainHttp = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai-compatible',
      baseUrl: 'http://10.0.0.5/v1',
      agentModel: 'm',
      classifierModel: 'm',
      apiKey: KEY_C,
    });
    expect([plainHttp.status, plainHttp.json.error.code]).toEqual([400, 'model_settings_invalid']);
    const noKey = await call('PUT', '/api/v1/model-settings', a.admin, { provider: 'openai', agentModel: 'gpt-4.1', classifierModel: 'gpt-4.1' });
    expect([noKey.status, noKey.json.error.code]).toEqual([400, 'model_key_required']);
    expect((await call('GET', '/api/v1/model-settings', a.read)).json).toMatchObject({ source: 'none', keySet: false });

    // An openai-compatible gateway that answers: saved, then models changed without resending the key (checked with the stored one).
    nock('https://llm.gateway.example').get('/v1/models').matchHeader('authorization', `Bearer ${KEY_C}`).reply(200, modelList('llama-70b', 'llama-8b'));
    const gateway = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai-compatible',
      baseUrl: 'https://llm.gateway.example/v1/',
      agentModel: 'llama-70b',
      classifierModel: 'llama-8b',
      apiKey: KEY_C,
    });
    expect(gateway.json).toMatchObject({ source: 'org', provider: 'openai-compatible', baseUrl: 'https://llm.gateway.example/v1', keySet: true });
    nock('https://llm.gateway.example').get('/v1/models').matchHeader('authorization', `Bearer ${KEY_C}`).reply(200, modelList('llama-70b', 'llama-8b'));
    const swapped = await call('PUT', '/api/v1/model-settings', a.admin, {
      provider: 'openai-compatible',
      baseUrl: 'https://llm.gateway.example/v1',
      agentModel: 'llama-8b',
      classifierModel: 'llama-8b',
    });
    expect(swapped.json).toMatchObject({ agentModel: 'llama-8b', keySet: true });
    const [{ n }] = await db.query<{ n: string }>("SELECT count(*) AS n FROM secrets WHERE org_id = $1 AND kind = 'ai_key'", [a.orgId]);
    expect(Number(n)).toBe(1);

    // A read key sees, never changes.
    const refused = await call('PUT', '/api/v1/model-settings', a.read, {
      provider: 'openai',
      agentModel: 'gpt-4.1',
      classifierModel: 'gpt-4.1',
      apiKey: KEY_A,
    });
    expect([refused.status, refused.json.error.code]).toEqual([403, 'insufficient_scope']);
    const caps = await call('PUT', '/api/v1/caps', a.read, { monthlyCostCapUsd: 5 });
    expect(caps.status).toBe(403);
    const removed = await call('DELETE', '/api/v1/model-settings', a.admin);
    expect(removed.json).toMatchObject({ source: 'none', keySet: false });
    await expectNoKeyIn(app, answers);
  });

  it('PUT /api/v1/caps sets caps and price overrides; GET /api/v1/usage shows them', async () => {
    const a = await orgWithKeys('org-caps');
    const set = await call('PUT', '/api/v1/caps', a.admin, {
      monthlyCostCapUsd: 50,
      runCostCapUsd: 2,
      runTokenCap: 500_000,
      prices: { 'llama-70b': { inputPerMTok: 0.5, outputPerMTok: 0.5 } },
    });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ plan: null, monthlyCostCapUsd: 50, monthlyTokenCap: null, runCostCapUsd: 2, runTokenCap: 500_000 });
    const usage = await call('GET', '/api/v1/usage', a.read);
    expect(usage.json).toMatchObject({
      month: new Date().toISOString().slice(0, 7),
      spent: { calls: 0, costUsd: 0 },
      holds: { count: 0 },
      remaining: { costUsd: 50, tokens: null },
      prices: { 'llama-70b': { inputPerMTok: 0.5, outputPerMTok: 0.5 } },
    });
    const bad = await call('PUT', '/api/v1/caps', a.admin, { monthlyCostCapUsd: -3 });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_payload']);
  });
});

describe('the server model is shared only with USERZ_SHARED_MODEL=true', () => {
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  for (const shared of [true, false]) {
    it(`USERZ_SHARED_MODEL=${shared}: an org without a key of its own ${shared ? 'is triaged with the server model' : 'waits for review (model_not_configured)'}`, async () => {
      const app = await startTestApp({ env: { OPENAI_API_KEY: SERVER_KEY, ...(shared ? { USERZ_SHARED_MODEL: 'true' } : {}) } });
      try {
        const db = app.deps.store.db;
        const orgId = await createTestOrg(db, app.deps.vault, 'no-key');
        const reportId = await seedReport(db, orgId, await seedApp(db, orgId), 'The checkout button does nothing.');
        if (shared) {
          nock(OPENAI)
            .post('/v1/chat/completions')
            .matchHeader('authorization', `Bearer ${SERVER_KEY}`)
            .reply(200, chatCompletion(JSON.stringify(BENIGN)));
        }
        await triageReport(app.deps.pipeline, reportId);
        expect(await reportState(db, reportId)).toEqual(
          shared ? { status: 'triaged', reason: 'benign' } : { status: 'needs_review', reason: 'model_not_configured' },
        );
        const view = await getModelSettings({ db, shared: app.deps.config.model, sharedModel: app.deps.config.sharedModel }, orgId);
        expect(view).toMatchObject(shared ? { source: 'shared', provider: 'openai', keySet: false } : { source: 'none' });
        await expectNoKeyIn(app, [JSON.stringify(view)]);
      } finally {
        await app.close();
      }
    });
  }

  it('a saved key takes effect at once: the resolver sees the new settings row, not its cached client', async () => {
    const app = await startTestApp({});
    try {
      const db = app.deps.store.db;
      const orgId = await createTestOrg(db, app.deps.vault, 'switch');
      const resolver = app.deps.pipeline.models as OrgModelResolver;
      expect(await resolver.forOrg(orgId)).toBeNull();
      nock(OPENAI).get('/v1/models').matchHeader('authorization', `Bearer ${KEY_A}`).reply(200, modelList('gpt-4.1', 'gpt-4.1-mini'));
      await saveModelSettings(
        { db, vault: app.deps.vault, sharedModel: false },
        orgId,
        { provider: 'openai', agentModel: 'gpt-4.1', classifierModel: 'gpt-4.1-mini', apiKey: KEY_A },
        'test',
      );
      const first = await resolver.forOrg(orgId);
      expect(first?.source).toBe('org');
      nock(ANTHROPIC).get('/v1/models/claude-sonnet-4-5').reply(200, anthropicModel('claude-sonnet-4-5'));
      await saveModelSettings(
        { db, vault: app.deps.vault, sharedModel: false },
        orgId,
        { provider: 'anthropic', agentModel: 'claude-sonnet-4-5', classifierModel: 'claude-sonnet-4-5', apiKey: KEY_B },
        'test',
      );
      const second = await resolver.forOrg(orgId);
      expect(second?.agentFor('run_1')).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
      const decrypts = (await listAudit(db, { orgId, action: 'secret.decrypt' })).length;
      await resolver.forOrg(orgId);
      expect((await listAudit(db, { orgId, action: 'secret.decrypt' })).length).toBe(decrypts); // cached: not decrypted again
    } finally {
      await app.close();
    }
  });
});
