import { openApiDocument } from '../../src/api/index.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { countRows, openHarness, type Harness } from './harness.js';

describe('App API', () => {
  let h: Harness;
  // Every call is checked against the OpenAPI document of the routes it reaches (test/helpers/openapi.ts).
  let client: ApiClient;
  beforeAll(async () => {
    h = await openHarness();
    client = await apiClient(h.url, openApiDocument(h.api, { version: 'test' }));
  });
  afterAll(async () => h.close());

  const call = (method: string, path: string, body?: unknown, key = h.apiKey) => client.call(method, path, { key, body });

  it('creates an App with an sk_ key and shows the signing secret once', async () => {
    const res = await call('POST', '/api/v1/apps', { name: 'Shop', origins: ['https://shop.example'] });
    expect(res.status).toBe(201);
    expect(res.json.publicKey).toMatch(/^pub_/);
    expect(res.json.signingSecret).toMatch(/^uzsig_/);
    expect(res.json.app.origins).toEqual(['https://shop.example']);
    const again = await call('GET', `/api/v1/apps/${res.json.app.id}`);
    expect(again.status).toBe(200);
    expect(again.text).not.toContain(res.json.signingSecret);
  });

  it('refuses to create an App without a valid sk_ key', async () => {
    const before = await countRows(h.db, 'apps');
    const res = await call('POST', '/api/v1/apps', { name: 'X', origins: [] }, 'sk_nope');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('invalid_api_key');
    expect(await countRows(h.db, 'apps')).toBe(before);
  });

  it('refuses an origin with a path', async () => {
    const res = await call('POST', '/api/v1/apps', { name: 'X', origins: ['https://shop.example/app'] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_origin');
  });

  it('sets chat channels and the Discord bot token with PATCH (encrypted), but no workspace or guild id', async () => {
    const created = await call('POST', '/api/v1/apps', { name: 'Chat', origins: [] });
    const id = created.json.app.id as string;
    const botToken = 'MTAxNTk2.discord-bot-token-for-tests';
    const res = await call('PATCH', `/api/v1/apps/${id}`, { slack: { channelId: 'C123' }, discord: { channelId: '222222222222', botToken } });
    expect(res.status).toBe(200);
    // Linking a workspace or guild needs proof from inside it (test/intake/chat-links.test.ts).
    expect(res.json.app.slack).toBeNull();
    expect(res.json.app.discord).toBeNull();
    expect(res.text).not.toContain(botToken);
    const byId = await call('PATCH', `/api/v1/apps/${id}`, { slack: { teamId: 'T123' }, discord: { guildId: '111111111111' } });
    expect(byId.status).toBe(400);
    expect(byId.json.error.code).toBe('chat_link_needs_proof');
    const [row] = await h.db.query<{ discord_bot_token_secret_id: string }>('SELECT discord_bot_token_secret_id FROM apps WHERE id = $1', [id]);
    expect(await h.vault.revealSecret(row!.discord_bot_token_secret_id, { actor: 'test', purpose: 'test' })).toBe(botToken);
  });

  it('does not let one org change another org’s App', async () => {
    const created = await call('POST', '/api/v1/apps', { name: 'Mine', origins: [] });
    const { issueApiKey } = await import('../../src/security/index.js');
    const { insertOrg } = await import('../../src/store/index.js');
    const other = await h.db.transaction((tx) => insertOrg(tx, 'Other', 'test'));
    const { key } = await issueApiKey(h.db, other.id, { actor: 'test' });
    const res = await call('PATCH', `/api/v1/apps/${created.json.app.id}`, { name: 'Stolen' }, key);
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('app_not_found');
  });
});
