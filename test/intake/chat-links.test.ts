// Linking a Slack workspace or a Discord server to an App needs proof from inside it
// (issue 11, item 4): a one-time code the org creates through the API, sent with
// `/userz link` by a workspace member (Slack) or a member with Manage Server (Discord).
// Every request here is really signed: Slack v0 HMAC, Discord Ed25519 with a fresh key pair.
import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import nock from 'nock';
import { issueApiKey } from '../../src/security/index.js';
import { getApp } from '../../src/store/apps.js';
import { getReport } from '../../src/store/reports.js';
import { createTestOrg } from '../helpers/db.js';
import { openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-link-tests-0123';
const APPLICATION_ID = '900000000000000002';
const CHANNEL = '700000000000000002';
const MANAGE_GUILD = String(1 << 5);
const ADMINISTRATOR = String(1 << 3);
const CODE_SHAPE = /^UZL(-[A-Z2-7]{4}){5}$/;

function discordKeyPair(): { publicKeyHex: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKeyHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'), privateKey };
}

const discordKeys = discordKeyPair();

function slackHeaders(body: string): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000));
  // Slack: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}")
  const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
}

function slashCommand(teamId: string, text: string, userId = 'U0MEMBER'): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: teamId,
    team_domain: 'ws',
    channel_id: 'C0LINK',
    channel_name: 'general',
    user_id: userId,
    user_name: 'member',
    command: '/userz',
    text,
    api_app_id: 'A0APP',
    response_url: 'https://hooks.slack.com/commands/T0/1/abc',
    trigger_id: '1.2.3',
  }).toString();
}

let seq = 0;
type Member = { permissions?: string } | null;
function discordCommand(sub: { name: string; options: Array<{ name: string; value: string }> }, opts: { guildId?: string | null; member?: Member } = {}) {
  seq++;
  const inGuild = opts.guildId !== null;
  const member = opts.member === undefined ? { permissions: MANAGE_GUILD } : opts.member;
  return {
    id: `20000000000000${String(seq).padStart(4, '0')}`,
    application_id: APPLICATION_ID,
    type: 2,
    token: `link-interaction-token-${seq}`,
    version: 1,
    ...(inGuild ? { guild_id: opts.guildId ?? '800000000000000099' } : {}),
    channel_id: CHANNEL,
    channel: { id: CHANNEL, type: inGuild ? 0 : 1 },
    ...(member ? { member: { user: { id: '600000000000000002', username: 'mod' }, ...member } } : { user: { id: '600000000000000003', username: 'dm-user' } }),
    data: { id: '500', name: 'userz', type: 1, options: [{ name: sub.name, type: 1, options: sub.options.map((o) => ({ ...o, type: 3 })) }] },
  };
}

const linkWith = (code: string) => ({ name: 'link', options: [{ name: 'code', value: code }] });

describe('chat link codes', () => {
  let h: Harness;
  beforeAll(async () => {
    // Slack without OAuth: single-workspace mode, where link codes are how a workspace is linked.
    h = await openHarness({
      config: { slack: { signingSecret: SIGNING_SECRET }, discord: { applicationId: APPLICATION_ID, publicKey: discordKeys.publicKeyHex } },
    });
  });
  afterAll(async () => h.close());
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  const json = (key = h.apiKey) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  const newApp = async (key = h.apiKey) =>
    (await send(`${h.url}/api/v1/apps`, { headers: json(key), body: JSON.stringify({ name: 'Product', origins: [] }) })).json.app.id as string;
  const newCode = (appId: string, provider: 'slack' | 'discord', key = h.apiKey) =>
    send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, { headers: json(key), body: JSON.stringify({ provider }) });
  const slack = async (teamId: string, text: string) => {
    const body = slashCommand(teamId, text);
    const res = await send(`${h.url}/slack/events`, { headers: slackHeaders(body), body });
    expect(res.status).toBe(200);
    return res.json.text as string;
  };
  const discordRequest = (payload: unknown) => {
    const body = JSON.stringify(payload);
    const ts = Math.floor(Date.now() / 1000);
    // Discord: Ed25519 over timestamp + raw body.
    const signature = sign(null, Buffer.from(`${ts}${body}`), discordKeys.privateKey).toString('hex');
    return send(`${h.url}/discord/interactions`, {
      headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': String(ts) },
      body,
    });
  };
  const discord = async (payload: unknown) => {
    const res = await discordRequest(payload);
    expect(res.status).toBe(200);
    return res.json.data.content as string;
  };
  const otherOrgKey = async () => {
    const other = await createTestOrg(h.db, h.vault, 'Squatter');
    return (await issueApiKey(h.db, other, { actor: 'test' })).key;
  };
  const codeRow = async (code: string) => {
    const hash = createHash('sha256').update(code.replace(/-/g, '')).digest('hex');
    const [row] = await h.db.query<Record<string, unknown>>('SELECT * FROM chat_link_codes WHERE code_hash = $1', [hash]);
    return row;
  };
  const expire = (code: string) =>
    h.db.query("UPDATE chat_link_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1", [
      createHash('sha256').update(code.replace(/-/g, '')).digest('hex'),
    ]);

  describe('the API', () => {
    it('answers a code once, stores only its sha256, bound to the App and provider, for 15 minutes', async () => {
      const appId = await newApp();
      const res = await newCode(appId, 'slack');
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json).toMatchObject({ provider: 'slack', appId, command: `/userz link ${res.json.code}` });
      expect(res.json.code).toMatch(CODE_SHAPE);
      const row = await codeRow(res.json.code);
      expect(row).toMatchObject({ app_id: appId, org_id: h.orgId, provider: 'slack', used_at: null });
      expect(JSON.stringify(row)).not.toContain(res.json.code.replace(/-/g, ''));
      expect(JSON.stringify(row)).not.toContain(res.json.code);
      const [ttl] = await h.db.query<{ s: number }>('SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM chat_link_codes WHERE code_hash = $1', [
        row!.code_hash,
      ]);
      expect(Number(ttl!.s)).toBe(900);
      expect(new Date(res.json.expiresAt).getTime()).toBe(new Date(row!.expires_at as Date).getTime());
    });

    it('refuses a code for an App of another org, an unknown provider and no key, storing nothing', async () => {
      const appId = await newApp();
      const before = await h.db.query('SELECT 1 FROM chat_link_codes');
      const foreign = await newCode(appId, 'discord', await otherOrgKey());
      expect(foreign.status).toBe(404);
      expect(foreign.json.error.code).toBe('app_not_found');
      const bad = await send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, { headers: json(), body: JSON.stringify({ provider: 'teams' }) });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('invalid_request');
      const anonymous = await send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'slack' }),
      });
      expect(anonymous.status).toBe(401);
      expect((await h.db.query('SELECT 1 FROM chat_link_codes')).length).toBe(before.length);
    });

    it('no longer links a Slack workspace or Discord guild by id with PATCH, and changes nothing', async () => {
      const appId = await newApp();
      for (const body of [
        { slack: { teamId: 'T0ANY' } },
        { discord: { guildId: '111111111111' } },
        { name: 'Renamed', slack: { teamId: 'T0ANY', channelId: 'C1' } },
      ]) {
        const res = await send(`${h.url}/api/v1/apps/${appId}`, { method: 'PATCH', headers: json(), body: JSON.stringify(body) });
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe('chat_link_needs_proof');
        expect(res.json.error.message).toContain('chat-link-codes');
      }
      expect(await getApp(h.db, appId)).toMatchObject({ name: 'Product', slackTeamId: null, slackChannelId: null, discordGuildId: null });
    });

    it('still unlinks with PATCH null and stores a Discord bot token encrypted', async () => {
      const appId = await newApp();
      const code = (await newCode(appId, 'discord')).json.code as string;
      expect(await discord(discordCommand(linkWith(code), { guildId: '800000000000000050' }))).toContain('Linked');
      const botToken = 'MTAxNTk2.discord-bot-token-for-link-tests';
      const set = await send(`${h.url}/api/v1/apps/${appId}`, { method: 'PATCH', headers: json(), body: JSON.stringify({ discord: { botToken } }) });
      expect(set.status).toBe(200);
      expect(set.json.app.discord).toEqual({ guildId: '800000000000000050', channelId: CHANNEL, botToken: 'stored' });
      expect(set.text).not.toContain(botToken);
      const app = await getApp(h.db, appId);
      expect(await h.vault.revealSecret(app!.discordBotTokenSecretId!, { actor: 'test', purpose: 'test' })).toBe(botToken);
      const cleared = await send(`${h.url}/api/v1/apps/${appId}`, { method: 'PATCH', headers: json(), body: JSON.stringify({ discord: null }) });
      expect(cleared.json.app.discord).toBeNull();
      expect(await getApp(h.db, appId)).toMatchObject({ discordGuildId: null, discordChannelId: null, discordBotTokenSecretId: null });
    });
  });

  describe('Slack, single-workspace mode', () => {
    it('links the workspace the code is sent from, once; reports from it then reach the App', async () => {
      const appId = await newApp();
      const { code } = (await newCode(appId, 'slack')).json as { code: string };
      const reply = await slack('T0LINKED', `link ${code.toLowerCase()}`);
      expect(reply).toBe(`Linked: /userz reports from this Slack workspace now go to App ${appId}.`);
      expect(await getApp(h.db, appId)).toMatchObject({ slackTeamId: 'T0LINKED', slackChannelId: 'C0LINK' });
      expect(await codeRow(code)).toMatchObject({ used_for: 'T0LINKED' });

      const received = await slack('T0LINKED', 'The cart empties itself');
      const reportId = /report (rep_[0-9A-Za-z]+)/.exec(received)![1]!;
      expect((await getReport(h.db, reportId))!.appId).toBe(appId);

      // Used once: the same code from another workspace links nothing.
      expect(await slack('T0SECOND', `link ${code}`)).toContain('not valid');
      expect((await h.db.query('SELECT 1 FROM apps WHERE slack_team_id = $1', ['T0SECOND'])).length).toBe(0);
    });

    it('refuses a wrong code, an expired code and a code made for Discord, linking nothing', async () => {
      const appId = await newApp();
      const slackCode = (await newCode(appId, 'slack')).json.code as string;
      expect(await slack('T0WRONG', 'link UZL-AAAA-BBBB-CCCC-DDDD-EEEE')).toContain('not valid');
      await expire(slackCode);
      expect(await slack('T0WRONG', `link ${slackCode}`)).toContain('not valid');
      expect((await codeRow(slackCode))!.used_at).toBeNull();

      const discordCode = (await newCode(appId, 'discord')).json.code as string;
      expect(await slack('T0WRONG', `link ${discordCode}`)).toContain('not valid');
      expect(await getApp(h.db, appId)).toMatchObject({ slackTeamId: null, discordGuildId: null });
      // The Discord code was not spent by the Slack attempt: a server manager can still use it.
      expect(await discord(discordCommand(linkWith(discordCode), { guildId: '800000000000000051' }))).toContain('Linked');
    });

    it('answers a link attempt without echoing what the sender typed', async () => {
      const reply = await slack('T0ECHO', 'link UZL-<!channel>-<https://evil.example|click>');
      expect(reply).toContain('not valid');
      expect(reply).not.toMatch(/channel|evil|click|</);
    });

    it('keeps a report that starts with the word "link" a report', async () => {
      const appId = await newApp();
      const code = (await newCode(appId, 'slack')).json.code as string;
      await slack('T0REPORTS', `link ${code}`);
      const received = await slack('T0REPORTS', 'link preview is broken');
      expect(received).toMatch(/Received: report rep_/);
      expect(await slack('T0REPORTS', 'link')).toContain('Usage: /userz link <code>');
    });

    it('leaves a workspace linked to another App where it is, and the code unused', async () => {
      const owner = await newApp();
      await slack('T0OWNED', `link ${(await newCode(owner, 'slack')).json.code}`);
      const squatterKey = await otherOrgKey();
      const squatter = await newApp(squatterKey);
      const code = (await newCode(squatter, 'slack', squatterKey)).json.code as string;
      expect(await slack('T0OWNED', `link ${code}`)).toContain('already linked to another App');
      expect((await getApp(h.db, owner))!.slackTeamId).toBe('T0OWNED');
      expect((await getApp(h.db, squatter))!.slackTeamId).toBeNull();
      expect((await codeRow(code))!.used_at).toBeNull();
    });

    it('stops the squat from the issue: another org cannot claim a workspace by id, and its owner links it', async () => {
      const squatterKey = await otherOrgKey();
      const squatter = await newApp(squatterKey);
      const squat = await send(`${h.url}/api/v1/apps/${squatter}`, {
        method: 'PATCH',
        headers: json(squatterKey),
        body: JSON.stringify({ slack: { teamId: 'T0VICTIM' }, discord: { guildId: '800000000000000077' } }),
      });
      expect(squat.status).toBe(400);
      expect(squat.json.error.code).toBe('chat_link_needs_proof');

      const owner = await newApp();
      const slackReply = await slack('T0VICTIM', `link ${(await newCode(owner, 'slack')).json.code}`);
      expect(slackReply).toContain('Linked');
      const discordReply = await discord(discordCommand(linkWith((await newCode(owner, 'discord')).json.code), { guildId: '800000000000000077' }));
      expect(discordReply).toContain('Linked');
      expect(await getApp(h.db, owner)).toMatchObject({ slackTeamId: 'T0VICTIM', discordGuildId: '800000000000000077' });
      const received = await slack('T0VICTIM', 'Checkout fails');
      expect((await getReport(h.db, /report (rep_[0-9A-Za-z]+)/.exec(received)![1]!))!.appId).toBe(owner);
    });
  });

  describe('Discord', () => {
    it('links the server for a member with Manage Server, and for an Administrator', async () => {
      for (const [permissions, guildId] of [
        [MANAGE_GUILD, '800000000000000101'],
        [ADMINISTRATOR, '800000000000000102'],
        // Discord's bitfields outgrow 2^53: other high bits plus Manage Server.
        [String((1n << 40n) | (1n << 5n)), '800000000000000103'],
      ] as const) {
        const appId = await newApp();
        const code = (await newCode(appId, 'discord')).json.code as string;
        expect(await discord(discordCommand(linkWith(code), { guildId, member: { permissions } }))).toBe(
          `Linked: /userz reports from this Discord server now go to App ${appId}.`,
        );
        expect(await getApp(h.db, appId)).toMatchObject({ discordGuildId: guildId, discordChannelId: CHANNEL });
      }
    });

    it('refuses a member without Manage Server, or with no permissions field, and keeps the code', async () => {
      const appId = await newApp();
      const code = (await newCode(appId, 'discord')).json.code as string;
      const guildId = '800000000000000201';
      // Send Messages, Manage Messages, Kick Members: everything but Manage Server / Administrator.
      const everyOtherBit = String(((1n << 41n) - 1n) & ~(1n << 5n) & ~(1n << 3n));
      for (const member of [{ permissions: '2048' }, { permissions: everyOtherBit }, {}]) {
        expect(await discord(discordCommand(linkWith(code), { guildId, member }))).toBe(
          'Only a member with the Manage Server permission can link this server to Userz.',
        );
      }
      // A bitfield that is not a decimal number never counts as Manage Server (the payload schema may refuse it first).
      const garbled = await discordRequest(discordCommand(linkWith(code), { guildId, member: { permissions: '32abc' } }));
      if (garbled.status === 200) expect(garbled.json.data.content).toContain('Manage Server permission');
      else expect(garbled.status).toBe(400);
      expect((await getApp(h.db, appId))!.discordGuildId).toBeNull();
      expect((await codeRow(code))!.used_at).toBeNull();
    });

    it('refuses a DM interaction, which has no member and no server', async () => {
      const appId = await newApp();
      const code = (await newCode(appId, 'discord')).json.code as string;
      expect(await discord(discordCommand(linkWith(code), { guildId: null, member: null }))).toBe('Use this command in a server channel.');
      expect((await getApp(h.db, appId))!.discordGuildId).toBeNull();
      expect((await codeRow(code))!.used_at).toBeNull();
    });

    it('refuses a wrong, reused, expired or Slack code, linking nothing', async () => {
      const appId = await newApp();
      const used = (await newCode(appId, 'discord')).json.code as string;
      expect(await discord(discordCommand(linkWith(used), { guildId: '800000000000000301' }))).toContain('Linked');

      const other = await newApp();
      const guildId = '800000000000000302';
      expect(await discord(discordCommand(linkWith('UZL-AAAA-BBBB-CCCC-DDDD-EEEE'), { guildId }))).toContain('not valid');
      expect(await discord(discordCommand(linkWith(used), { guildId }))).toContain('not valid');
      const expired = (await newCode(other, 'discord')).json.code as string;
      await expire(expired);
      expect(await discord(discordCommand(linkWith(expired), { guildId }))).toContain('not valid');
      const slackCode = (await newCode(other, 'slack')).json.code as string;
      expect(await discord(discordCommand(linkWith(slackCode), { guildId }))).toContain('not valid');
      expect((await h.db.query('SELECT 1 FROM apps WHERE discord_guild_id = $1', [guildId])).length).toBe(0);
      expect((await getApp(h.db, appId))!.discordGuildId).toBe('800000000000000301');
    });

    it('answers without echoing the code or anything else the sender typed', async () => {
      const reply = await discord(discordCommand(linkWith('UZL-@everyone-[x](https://evil.example)'), { guildId: '800000000000000401' }));
      expect(reply).toContain('not valid');
      expect(reply).not.toMatch(/everyone|evil|@/);
    });

    it('a code made for one App links that App only, whichever org’s member sends it', async () => {
      const mine = await newApp();
      const theirsKey = await otherOrgKey();
      const theirs = await newApp(theirsKey);
      const code = (await newCode(theirs, 'discord', theirsKey)).json.code as string;
      await discord(discordCommand(linkWith(code), { guildId: '800000000000000501' }));
      expect((await getApp(h.db, theirs))!.discordGuildId).toBe('800000000000000501');
      expect((await getApp(h.db, mine))!.discordGuildId).toBeNull();
    });
  });
});

describe('chat link codes with Slack OAuth configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness({
      config: { slack: { signingSecret: SIGNING_SECRET, clientId: '111.222', clientSecret: 'client-secret', stateSecret: 'state-secret' } },
    });
  });
  afterAll(async () => h.close());

  it('refuses Slack codes: the OAuth install is the proof there', async () => {
    const headers = { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' };
    const appId = (await send(`${h.url}/api/v1/apps`, { headers, body: JSON.stringify({ name: 'OAuth', origins: [] }) })).json.app.id as string;
    const res = await send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, { headers, body: JSON.stringify({ provider: 'slack' }) });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('slack_oauth_required');
    const discordRes = await send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, { headers, body: JSON.stringify({ provider: 'discord' }) });
    expect(discordRes.status).toBe(409);
    expect(discordRes.json.error.code).toBe('discord_not_configured');
    expect((await h.db.query('SELECT 1 FROM chat_link_codes')).length).toBe(0);

    const body = slashCommand('T0OAUTH', 'link UZL-AAAA-BBBB-CCCC-DDDD-EEEE');
    const reply = await send(`${h.url}/slack/events`, { headers: slackHeaders(body), body });
    expect(reply.json.text).toContain('install link');
    expect((await h.db.query('SELECT 1 FROM apps WHERE slack_team_id = $1', ['T0OAUTH'])).length).toBe(0);
  });
});
