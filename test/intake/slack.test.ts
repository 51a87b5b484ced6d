import { createHmac } from 'node:crypto';
import nock from 'nock';
import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { getApp, getSlackInstallation, updateAppLinks } from '../../src/store/apps.js';
import { getReport } from '../../src/store/reports.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123456789';

function signed(body: string, opts: { ts?: number; secret?: string } = {}): Record<string, string> {
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  // Slack: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}")
  const sig = createHmac('sha256', opts.secret ?? SIGNING_SECRET)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
}

function slashCommand(fields: Partial<Record<string, string>> = {}): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T0CONNECTED',
    team_domain: 'acme',
    channel_id: 'C0CHAN',
    channel_name: 'bugs',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/userz',
    text: 'The export button crashes the page',
    api_app_id: 'A0APP',
    response_url: 'https://hooks.slack.com/commands/T0/1/abc',
    trigger_id: '1.2.3',
    ...fields,
  } as Record<string, string>).toString();
}

describe('Slack', () => {
  let h: Harness;
  let app: CreatedApp;

  beforeAll(async () => {
    h = await openHarness({
      config: { slack: { signingSecret: SIGNING_SECRET, clientId: '111.222', clientSecret: 'client-secret', stateSecret: 'state-secret' } },
    });
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [], actor: 'test' });
    await updateAppLinks(h.db, h.orgId, app.app.id, { slackTeamId: 'T0CONNECTED' }, 'test');
  });
  afterAll(async () => h.close());
  afterEach(() => nock.cleanAll());

  const command = (body: string, headers = signed(body)) => send(`${h.url}/slack/events`, { headers, body });

  it('acknowledges /userz from a connected workspace with an ephemeral message naming the stored report', async () => {
    const res = await command(slashCommand());
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    const id = /report (rep_[0-9A-Za-z]+)/.exec(res.json.text)?.[1];
    expect(id).toBeDefined();
    const report = await getReport(h.db, id!);
    expect(report).toMatchObject({
      source: 'slack',
      appId: app.app.id,
      reporterKey: 'slack:U0ALICE',
      replyTo: { kind: 'slack', teamId: 'T0CONNECTED', channelId: 'C0CHAN', userId: 'U0ALICE' },
    });
    expect(report!.content.text).toBe('The export button crashes the page');
  });

  it('answers a workspace that is not connected with 200, an ephemeral message and the install link', async () => {
    const before = await countRows(h.db, 'reports');
    const res = await command(slashCommand({ team_id: 'T0STRANGER' }));
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toContain(`${h.url}/slack/install`);
    expect(await countRows(h.db, 'reports')).toBe(before);
    const page = await send(`${h.url}/slack/install`, { method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('install link');
  });

  it('refuses a request whose timestamp is older than 300 s', async () => {
    const before = await countRows(h.db, 'reports');
    const body = slashCommand({ text: 'stale' });
    const res = await command(body, signed(body, { ts: Math.floor(Date.now() / 1000) - 301 }));
    expect(res.status).toBe(401);
    expect(await countRows(h.db, 'reports')).toBe(before);
  });

  it('refuses a signed request dated 400 s in the future or the past, and accepts one 299 s ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = await countRows(h.db, 'reports');
    for (const offset of [400, -400]) {
      const body = slashCommand({ text: `dated ${offset}` });
      const res = await command(body, signed(body, { ts: now + offset }));
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('stale_request');
    }
    expect(await countRows(h.db, 'reports')).toBe(before);
    const body = slashCommand({ text: 'a clock slightly ahead' });
    const ahead = await command(body, signed(body, { ts: now + 299 }));
    expect(ahead.status).toBe(200);
    expect(ahead.json.text).toMatch(/Received: report rep_/);
    expect(await countRows(h.db, 'reports')).toBe(before + 1);
  });

  it('refuses a bad signature and a body changed after signing', async () => {
    const before = await countRows(h.db, 'reports');
    const body = slashCommand({ text: 'forged' });
    expect((await command(body, signed(body, { secret: 'not-the-secret' }))).status).toBe(401);
    expect((await command(slashCommand({ text: 'tampered' }), signed(body))).status).toBe(401);
    expect(await countRows(h.db, 'reports')).toBe(before);
  });

  it('stores a replayed request only once', async () => {
    const body = slashCommand({ text: 'only once please' });
    const headers = signed(body);
    const first = await command(body, headers);
    expect(first.json.text).toMatch(/Received: report rep_/);
    const before = await countRows(h.db, 'reports');
    const again = await command(body, headers);
    expect(again.json.text).toContain('already received');
    expect(await countRows(h.db, 'reports')).toBe(before);
  });

  it('answers a rate-limited reporter in the channel, not with an error', async () => {
    const limited = await openHarness({
      config: { slack: { signingSecret: SIGNING_SECRET } },
      deps: { rateLimits: { perReporter: { name: 'intake:reporter', limit: 1, windowMs: 60_000 } } },
    });
    try {
      const a = await createApp(limited.db, limited.vault, { orgId: limited.orgId, name: 'L', origins: [], actor: 'test' });
      await updateAppLinks(limited.db, limited.orgId, a.app.id, { slackTeamId: 'T0CONNECTED' }, 'test');
      const go = (text: string) => {
        const body = slashCommand({ text });
        return send(`${limited.url}/slack/events`, { headers: signed(body), body });
      };
      expect((await go('one')).json.text).toMatch(/Received/);
      const second = await go('two');
      expect(second.status).toBe(200);
      expect(second.json.text).toMatch(/Too many reports/);
      expect(await countRows(limited.db, 'reports')).toBe(1);
    } finally {
      await limited.close();
    }
  });

  describe('OAuth install', () => {
    async function startInstall(): Promise<{ state: string; cookie: string }> {
      const link = await send(`${h.url}/api/v1/apps/${app.app.id}/slack/install-url`, { headers: { authorization: `Bearer ${h.apiKey}` } });
      expect(link.status).toBe(200);
      const res = await send(link.json.url, { method: 'GET' });
      expect(res.status).toBe(302);
      const location = new URL(String(res.headers.location));
      expect(location.origin + location.pathname).toBe('https://slack.com/oauth/v2/authorize');
      expect(location.searchParams.get('client_id')).toBe('111.222');
      expect(location.searchParams.get('scope')).toBe('commands,chat:write');
      expect(location.searchParams.get('redirect_uri')).toBe(`${h.url}/slack/oauth_redirect`);
      const cookie = String((res.headers['set-cookie'] as string[])[0]).split(';')[0]!;
      return { state: location.searchParams.get('state')!, cookie };
    }

    it('exchanges the code, stores the bot token encrypted and maps the workspace to the App', async () => {
      const target = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Installed', origins: [], actor: 'test' });
      const link = await send(`${h.url}/api/v1/apps/${target.app.id}/slack/install-url`, { headers: { authorization: `Bearer ${h.apiKey}` } });
      const start = await send(link.json.url, { method: 'GET' });
      const state = new URL(String(start.headers.location)).searchParams.get('state')!;
      const cookie = String((start.headers['set-cookie'] as string[])[0]).split(';')[0]!;
      const botToken = 'xoxb-test-bot-token-123';
      nock('https://slack.com')
        .post('/api/oauth.v2.access', (body) => body.code === 'the-code' && body.client_id === '111.222' && body.client_secret === 'client-secret')
        .reply(200, {
          ok: true,
          access_token: botToken,
          token_type: 'bot',
          scope: 'commands,chat:write',
          bot_user_id: 'U0BOT',
          app_id: 'A0APP',
          team: { id: 'T0NEW', name: 'New Team' },
          authed_user: { id: 'U0ADMIN' },
        });
      const res = await send(`${h.url}/slack/oauth_redirect?code=the-code&state=${encodeURIComponent(state)}`, { method: 'GET', headers: { cookie } });
      expect(res.status).toBe(200);
      expect(res.text).toContain('connected');
      expect(nock.pendingMocks()).toEqual([]);
      const installation = await getSlackInstallation(h.db, 'T0NEW');
      expect(installation).toMatchObject({ appId: target.app.id, orgId: h.orgId, botUserId: 'U0BOT', installedBy: 'U0ADMIN' });
      const [secret] = await h.db.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM secrets WHERE id = $1', [installation!.botTokenSecretId]);
      expect(Buffer.from(secret!.ciphertext).toString('latin1')).not.toContain(botToken);
      expect(await h.vault.revealSecret(installation!.botTokenSecretId!, { actor: 'test', purpose: 'test' })).toBe(botToken);
      expect((await getApp(h.db, target.app.id))!.slackTeamId).toBe('T0NEW');

      // The state is single-use.
      const replay = await send(`${h.url}/slack/oauth_redirect?code=the-code&state=${encodeURIComponent(state)}`, { method: 'GET', headers: { cookie } });
      expect(replay.status).toBe(400);
      expect(replay.json.error.code).toBe('invalid_oauth_state');
    });

    it('refuses a callback without the state cookie, with a forged state, or with a forged ticket, and never calls Slack', async () => {
      const installsBefore = await countRows(h.db, 'slack_installations');
      const { state, cookie } = await startInstall();
      const noCookie = await send(`${h.url}/slack/oauth_redirect?code=c&state=${encodeURIComponent(state)}`, { method: 'GET' });
      expect(noCookie.json.error.code).toBe('invalid_oauth_state');
      const forged = `${state.split('.')[0]}.AAAA`;
      const bad = await send(`${h.url}/slack/oauth_redirect?code=c&state=${encodeURIComponent(forged)}`, { method: 'GET', headers: { cookie } });
      expect(bad.json.error.code).toBe('invalid_oauth_state');
      const ticket = Buffer.from(JSON.stringify({ appId: app.app.id, exp: Date.now() + 60_000 })).toString('base64url');
      const badTicket = await send(`${h.url}/slack/install?ticket=${ticket}.forged`, { method: 'GET' });
      expect(badTicket.status).toBe(400);
      expect(badTicket.json.error.code).toBe('invalid_install_link');
      expect(await countRows(h.db, 'slack_installations')).toBe(installsBefore);
      expect(nock.pendingMocks()).toEqual([]);
    });

    it('tells a Slack reporter the outcome in the originating channel with the workspace bot token', async () => {
      const target = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Notify', origins: [], actor: 'test' });
      const { saveSlackInstallation } = await import('../../src/store/apps.js');
      const botToken = 'xoxb-notify-token';
      await h.db.transaction(async (tx) => {
        const secretId = await h.vault.storeSecret(h.orgId, 'slack_bot_token', botToken, tx);
        await saveSlackInstallation(
          tx,
          { teamId: 'T0NOTIFY', appId: target.app.id, orgId: h.orgId, teamName: null, botUserId: 'U0BOT', botTokenSecretId: secretId, installedBy: null },
          'test',
        );
      });
      const body = slashCommand({ team_id: 'T0NOTIFY', channel_id: 'C0NOTE', user_id: 'U0BOB', text: 'Search is slow' });
      const ack = await command(body);
      const id = /report (rep_[0-9A-Za-z]+)/.exec(ack.json.text)![1]!;
      nock('https://slack.com', { reqheaders: { authorization: `Bearer ${botToken}` } })
        .post(
          '/api/chat.postMessage',
          (b) => b.channel === 'C0NOTE' && b.text.includes('<@U0BOB>') && b.text.includes('https://github.com/acme/shop/pull/9') && b.text.includes(id),
        )
        .reply(200, { ok: true, ts: '1.2' });
      await h.routes.notifier.notifyReporter({ id }, { kind: 'pr_opened', url: 'https://github.com/acme/shop/pull/9' });
      expect(nock.pendingMocks()).toEqual([]);
      // Told once: a second call (a retried job) sends nothing (nock would refuse it).
      await h.routes.notifier.notifyReporter({ id }, { kind: 'pr_opened', url: 'https://github.com/acme/shop/pull/9' });
      expect((await getReport(h.db, id))!.notifiedAt).toBeInstanceOf(Date);
    });
  });
});
