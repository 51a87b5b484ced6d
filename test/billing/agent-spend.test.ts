import { PassThrough } from 'node:stream';
import nock from 'nock';
import { OrgModelResolver, saveModelSettings } from '../../src/billing/index.js';
import { serveRunner, transcriptToJsonl } from '../../src/broker/index.js';
import { LineReader } from '../../src/runner/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { placeRunHold } from '../../src/billing/index.js';
import type { Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { seedApp, seedRun } from './seed.js';

const OPENAI = 'https://api.openai.com';
const KEY = 'sk-agent-org-4d3c2b1a0f9e8d7c6b5a';
const BUDGET = { maxTurns: 10, maxInputTokens: 1_000_000, maxOutputTokens: 100_000, maxCostUsd: 5 };

/** A runner played by the test: asks for a completion after the task and each answer, `turns` times, then says done. */
async function playRunner(opts: Omit<Parameters<typeof serveRunner>[0], 'fromRunner' | 'toRunner'>, turns: number) {
  const toRunner = new PassThrough();
  const fromRunner = new PassThrough();
  const reader = new LineReader(toRunner, 16 * 1024 * 1024);
  const outcome = serveRunner({ ...opts, fromRunner, toRunner });
  let n = 0;
  for (let line = await reader.next(); line !== null; line = await reader.next()) {
    const msg = JSON.parse(line) as { type: string };
    if (msg.type !== 'task' && msg.type !== 'model_response') continue;
    n += 1;
    if (n <= turns) fromRunner.write(`${JSON.stringify({ type: 'model_request', id: `m${n}`, request: { messages: [{ role: 'user', content: 'go' }] } })}\n`);
    else fromRunner.write(`${JSON.stringify({ type: 'done', summary: 'Fixed.' })}\n`);
  }
  return outcome;
}

const completion = (prompt: number, cached: number, out: number) => ({
  id: 'c',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4.1',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
  usage: { prompt_tokens: prompt, completion_tokens: out, total_tokens: prompt + out, prompt_tokens_details: { cached_tokens: cached } },
});

describe("an agent run on the org's own key (Postgres)", () => {
  let app: TestApp;
  let db: Db;
  let api: ApiClient;
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

  it('writes a ledger row per call that matches what the broker charged, shows it on the run, and keeps the key out of the transcript', async () => {
    const orgId = await createTestOrg(db, app.deps.vault, 'agent');
    const runId = await seedRun(db, orgId, await seedApp(db, orgId), 'running');
    await db.transaction((tx) => placeRunHold(tx, { id: runId, orgId }, { defaults: { runCostCapUsd: 2, runTokenCap: 50_000 }, ttlMs: 60_000 }));
    nock(OPENAI)
      .get('/v1/models')
      .matchHeader('authorization', `Bearer ${KEY}`)
      .reply(200, { object: 'list', data: [{ id: 'gpt-4.1' }, { id: 'gpt-4.1-mini' }] });
    await saveModelSettings(
      { db, vault: app.deps.vault, sharedModel: false },
      orgId,
      { provider: 'openai', agentModel: 'gpt-4.1', classifierModel: 'gpt-4.1-mini', apiKey: KEY },
      'test',
    );

    nock(OPENAI)
      .post('/v1/chat/completions')
      .matchHeader('authorization', `Bearer ${KEY}`)
      .reply(200, completion(10_000, 0, 500));
    nock(OPENAI)
      .post('/v1/chat/completions')
      .matchHeader('authorization', `Bearer ${KEY}`)
      .reply(200, completion(12_000, 8_000, 300));
    const models = await (app.deps.pipeline.models as OrgModelResolver).forOrg(orgId);
    const outcome = await playRunner(
      { client: models!.agentFor(runId)!, task: { system: 'Fix bugs.', prompt: 'Fix it.' }, budget: BUDGET, prices: models!.prices },
      2,
    );
    expect(outcome.kind).toBe('completed');

    // gpt-4.1: 2 USD/MTok input, 0.5 cached, 8 output.
    const expected = (10_000 * 2 + 500 * 8 + 4_000 * 2 + 8_000 * 0.5 + 300 * 8) / 1e6;
    expect(outcome.costUsd).toBeCloseTo(expected, 9);
    const read = (await issueApiKey(db, orgId, { actor: 'test', scopes: ['read'] })).key;
    const res = await api.call('GET', `/api/v1/runs/${runId}/usage`, { key: read });
    expect(res.json).toEqual({
      runId,
      calls: 2,
      inputTokens: 22_000,
      outputTokens: 800,
      cachedTokens: 8_000,
      costUsd: Number(expected.toFixed(6)),
      hold: { costUsd: 2, tokens: 50_000, settled: false },
    });
    const other = await createTestOrg(db, app.deps.vault, 'other');
    const foreign = await api.call('GET', `/api/v1/runs/${runId}/usage`, { key: (await issueApiKey(db, other, { actor: 'test', scopes: ['read'] })).key });
    expect([foreign.status, foreign.json.error.code]).toEqual([404, 'run_not_found']);

    const transcript = transcriptToJsonl(outcome.transcript);
    expect(transcript).toContain('model_response');
    for (const text of [transcript, JSON.stringify(outcome), app.logText(), res.text]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(KEY.slice(-12));
    }
  });

  it('the per-run token cap the hold reserves ends the run before the call that would cross it', async () => {
    const orgId = await createTestOrg(db, app.deps.vault, 'tokens');
    const runId = await seedRun(db, orgId, await seedApp(db, orgId), 'running');
    nock(OPENAI)
      .get('/v1/models')
      .reply(200, { object: 'list', data: [{ id: 'gpt-4.1' }] });
    await saveModelSettings(
      { db, vault: app.deps.vault, sharedModel: false },
      orgId,
      { provider: 'openai', agentModel: 'gpt-4.1', classifierModel: 'gpt-4.1', apiKey: KEY },
      'test',
    );
    nock(OPENAI)
      .post('/v1/chat/completions')
      .reply(200, completion(9_000, 0, 995));
    const models = await (app.deps.pipeline.models as OrgModelResolver).forOrg(orgId);
    const outcome = await playRunner(
      { client: models!.agentFor(runId)!, task: { system: 's', prompt: 'p' }, budget: { ...BUDGET, maxTotalTokens: 10_000 } },
      3,
    );
    expect(outcome).toMatchObject({ kind: 'budget_exceeded', budget: 'tokens', usage: { turns: 1, inputTokens: 9_000, outputTokens: 995 } });
  });
});
