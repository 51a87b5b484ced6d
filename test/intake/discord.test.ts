import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import nock from 'nock';
import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { updateAppLinks } from '../../src/store/apps.js';
import { getReport } from '../../src/store/reports.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const APPLICATION_ID = '900000000000000001';
const GUILD = '800000000000000001';
const CHANNEL = '700000000000000001';

function keyPair(): { publicKeyHex: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw 32-byte key is the last 32 bytes of the SPKI DER encoding.
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { publicKeyHex: raw.toString('hex'), privateKey };
}

function signedHeaders(body: string, privateKey: KeyObject, ts = Math.floor(Date.now() / 1000)): Record<string, string> {
  // Discord: Ed25519 over timestamp + raw body.
  const signature = sign(null, Buffer.from(`${ts}${body}`), privateKey).toString('hex');
  return { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': String(ts) };
}

let seq = 0;
function reportCommand(text: string, opts: { guildId?: string; id?: string } = {}) {
  seq++;
  return {
    id: opts.id ?? `10000000000000${String(seq).padStart(4, '0')}`,
    application_id: APPLICATION_ID,
    type: 2,
    token: `interaction-token-${seq}`,
    version: 1,
    guild_id: opts.guildId ?? GUILD,
    channel_id: CHANNEL,
    channel: { id: CHANNEL, type: 0 },
    member: { user: { id: '600000000000000001', username: 'alice' } },
    data: { id: '500', name: 'userz', type: 1, options: [{ name: 'report', type: 1, options: [{ name: 'text', type: 3, value: text }] }] },
  };
}

describe('Discord interactions', () => {
  let h: Harness;
  let app: CreatedApp;
  const keys = keyPair();

  beforeAll(async () => {
    h = await openHarness({ config: { discord: { applicationId: APPLICATION_ID, publicKey: keys.publicKeyHex } } });
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Game', origins: [], actor: 'test' });
    await updateAppLinks(h.db, h.orgId, app.app.id, { discordGuildId: GUILD, discordChannelId: CHANNEL }, 'test');
  });
  afterAll(async () => h.close());
  afterEach(() => nock.cleanAll());

  const post = (payload: unknown, headers?: Record<string, string>) => {
    const body = JSON.stringify(payload);
    return send(`${h.url}/discord/interactions`, { headers: headers ?? signedHeaders(body, keys.privateKey), body });
  };

  it('answers PING with PONG', async () => {
    const res = await post({ id: '1', application_id: APPLICATION_ID, type: 1, token: 't', version: 1 });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ type: 1 });
  });

  it('answers 401 to a signature from another key, a changed body and a missing signature', async () => {
    const other = keyPair();
    const ping = JSON.stringify({ id: '1', application_id: APPLICATION_ID, type: 1, token: 't', version: 1 });
    expect((await send(`${h.url}/discord/interactions`, { headers: signedHeaders(ping, other.privateKey), body: ping })).status).toBe(401);
    const headers = signedHeaders(ping, keys.privateKey);
    expect((await send(`${h.url}/discord/interactions`, { headers, body: ping.replace('"t"', '"u"') })).status).toBe(401);
    expect((await send(`${h.url}/discord/interactions`, { headers: { 'content-type': 'application/json' }, body: ping })).status).toBe(401);
    const stale = await send(`${h.url}/discord/interactions`, {
      headers: signedHeaders(ping, keys.privateKey, Math.floor(Date.now() / 1000) - 600),
      body: ping,
    });
    expect(stale.status).toBe(401);
  });

  it('answers 401 to a valid signature with characters after it or cut short, and accepts it in upper case', async () => {
    // Buffer.from(hex) stops at the first character that is not hex; the check must not.
    const ping = JSON.stringify({ id: '1', application_id: APPLICATION_ID, type: 1, token: 't', version: 1 });
    const headers = signedHeaders(ping, keys.privateKey);
    const valid = headers['x-signature-ed25519'];
    for (const signature of [`${valid}zz`, `${valid}00`, valid.slice(0, 126), `${valid.slice(0, 127)}g`]) {
      const res = await send(`${h.url}/discord/interactions`, { headers: { ...headers, 'x-signature-ed25519': signature }, body: ping });
      expect(res.status).toBe(401);
    }
    expect((await send(`${h.url}/discord/interactions`, { headers: { ...headers, 'x-signature-ed25519': valid.toUpperCase() }, body: ping })).status).toBe(200);
  });

  it('answers /userz report stored in time with an ephemeral message carrying its id, and sends no follow-up', async () => {
    // The late store (deferred answer, then the follow-up) is in chat-deadline.test.ts.
    const interaction = reportCommand('Inventory resets after reconnect');
    const res = await post(interaction);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ type: 4, data: { flags: 64 } });
    await h.routes.idle();
    expect(nock.pendingMocks()).toEqual([]);
    const id = /report (rep_[0-9A-Za-z]+)/.exec(res.json.data.content)![1]!;
    const report = await getReport(h.db, id);
    expect(report).toMatchObject({
      source: 'discord',
      appId: app.app.id,
      replyTo: { kind: 'discord', guildId: GUILD, channelId: CHANNEL, userId: '600000000000000001' },
    });
    expect(report!.content.text).toBe('Inventory resets after reconnect');
  });

  it('stores a duplicated interaction id only once', async () => {
    const interaction = reportCommand('duplicate me');
    expect((await post(interaction)).json.data.content).toMatch(/report rep_/);
    await h.routes.idle();
    const before = await countRows(h.db, 'reports');
    const again = await post(interaction);
    expect(again.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(again.json.data.content).toContain('already received');
    expect(await countRows(h.db, 'reports')).toBe(before);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('answers a guild that is not connected with an ephemeral message and the install link', async () => {
    const before = await countRows(h.db, 'reports');
    const res = await post(reportCommand('hello', { guildId: '800000000000000999' }));
    expect(res.status).toBe(200);
    expect(res.json.type).toBe(4);
    expect(res.json.data.flags).toBe(64);
    expect(res.json.data.content).toContain(`https://discord.com/oauth2/authorize?client_id=${APPLICATION_ID}`);
    expect(await countRows(h.db, 'reports')).toBe(before);
  });

  it('tells a Discord reporter the outcome in the channel with the bot token, without internal details', async () => {
    const botToken = 'discord-bot-token-stored-encrypted';
    await h.db.transaction(async (tx) => {
      const secretId = await h.vault.storeSecret(h.orgId, 'discord_bot_token', botToken, tx);
      await updateAppLinks(tx, h.orgId, app.app.id, { discordBotTokenSecretId: secretId }, 'test');
    });
    const interaction = reportCommand('Crash on level 3');
    const answered = await post(interaction);
    const id = /report (rep_[0-9A-Za-z]+)/.exec(answered.json.data.content)![1]!;
    await h.routes.idle();
    let told = '';
    nock('https://discord.com', { reqheaders: { authorization: `Bot ${botToken}` } })
      .post(`/api/v10/channels/${CHANNEL}/messages`, (b: { content: string }) => {
        told = b.content;
        return true;
      })
      .reply(200, { id: '2' });
    await h.routes.notifier.notifyReporter({ id }, { kind: 'refused', reason: 'Out of scope for this repo <@everyone> **see** /internal/trace' });
    expect(nock.pendingMocks()).toEqual([]);
    expect(told).toContain('<@600000000000000001>');
    expect(told).toContain(id);
    expect(told).not.toContain('<@everyone>');
    expect(told).not.toContain('**');
  });
});
