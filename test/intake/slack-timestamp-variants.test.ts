// Slack's X-Slack-Request-Timestamp is whole seconds in decimal (issue 11, item 10). Every
// other spelling of a time is refused before anything is stored, even when the request is
// signed over exactly the header it carries (as someone holding the secret would sign it).
import { createHmac } from 'node:crypto';
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { updateAppLinks } from '../../src/store/apps.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-ts-variants-01';

function slashCommand(text: string): string {
  return new URLSearchParams({
    team_id: 'T0TSVARIANT',
    channel_id: 'C0CHAN',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/userz',
    text,
    response_url: 'https://hooks.slack.com/commands/T0/1/abc',
  }).toString();
}

function signedOver(ts: string, body: string): Record<string, string> {
  // Slack: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"), the header as sent.
  const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
}

describe('Slack request timestamps that are not whole decimal seconds within 300 s', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness({ config: { slack: { signingSecret: SIGNING_SECRET } } });
    const { app } = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [], actor: 'test' });
    await updateAppLinks(h.db, h.orgId, app.id, { slackTeamId: 'T0TSVARIANT' }, 'test');
  });
  afterAll(async () => h.close());
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => string]>([
    ['a float', () => `${now()}.5`],
    ['a float with a zero fraction', () => `${now()}.0`],
    ['exponent notation', () => `${(now() / 1e9).toFixed(9)}e9`],
    ['negative', () => `-${now()}`],
    ['hexadecimal', () => `0x${now().toString(16)}`],
    ['a leading plus', () => `+${now()}`],
    ['far future in many digits', () => '9'.repeat(30)],
    ['far future within 12 digits', () => '999999999999'],
    ['zero', () => '0'],
    ['leading zeros, 400 s ahead', () => `0${now() + 400}`],
    ['not a number', () => 'now'],
    ['two values joined', () => `${now()}, ${now()}`],
    ['Infinity', () => 'Infinity'],
    ['empty', () => ''],
  ])('refuses %s with 401 and stores nothing', async (_name, ts) => {
    const before = await countRows(h.db, 'reports');
    const body = slashCommand(`timestamp variant ${_name}`);
    const res = await send(`${h.url}/slack/events`, { headers: signedOver(ts(), body), body });
    expect(res.status).toBe(401);
    expect(['stale_request', 'bad_signature']).toContain(res.json.error.code);
    expect(await countRows(h.db, 'reports')).toBe(before);
  });

  it('refuses a request without the timestamp header with 401 stale_request', async () => {
    const body = slashCommand('no timestamp');
    const headers = signedOver(String(now()), body);
    delete headers['x-slack-request-timestamp'];
    const res = await send(`${h.url}/slack/events`, { headers, body });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('stale_request');
  });

  it('accepts the same request with a plain current timestamp', async () => {
    const body = slashCommand('a plain timestamp');
    const res = await send(`${h.url}/slack/events`, { headers: signedOver(String(now()), body), body });
    expect(res.status).toBe(200);
    expect(res.json.text).toMatch(/Received: report rep_/);
  });
});
