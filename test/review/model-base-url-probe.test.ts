import { issueApiKey } from '../../src/security/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';

/**
 * Review probe (issue 19): the org's AI key is never returned by any API. GET
 * /api/v1/model-settings answers the base URL to every read key, so a base URL that carries
 * a key (credentials, or a query such as ?api-key=) is refused before anything is stored
 * or called (the network is off: a check call would fail differently).
 */
describe('model settings base URLs that would carry a key (review probe, PGlite)', () => {
  let app: TestApp;
  let key: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    key = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test' })).key;
  });
  afterAll(async () => app.close());

  it('refuses http, credentials, a query or a fragment with 400 model_settings_invalid and stores nothing', async () => {
    const answers: Array<[string, number, string | undefined]> = [];
    for (const baseUrl of [
      'http://llm.example.com/v1',
      'https://user:sk-secret-1234@llm.example.com/v1',
      'https://llm.example.com/v1?api-key=sk-secret-1234',
      'https://llm.example.com/v1#sk-secret-1234',
    ]) {
      const res = await fetch(`${app.url}/api/v1/model-settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'openai-compatible', baseUrl, agentModel: 'm', classifierModel: 'm', apiKey: 'sk-secret-1234' }),
      });
      const body = (await res.json()) as { error?: { code: string; message: string } };
      answers.push([baseUrl, res.status, body.error?.code]);
      expect(JSON.stringify(body)).not.toContain('sk-secret-1234');
    }
    expect(answers.filter(([, status, code]) => status !== 400 || code !== 'model_settings_invalid')).toEqual([]);
    const settings = await fetch(`${app.url}/api/v1/model-settings`, { headers: { authorization: `Bearer ${key}` } });
    expect(await settings.json()).toMatchObject({ source: 'none', baseUrl: null, keySet: false });
  });
});
