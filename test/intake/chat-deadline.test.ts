// Slack and Discord must get a well-formed answer inside their 3 s even when the store is
// slow; a report that ends up stored is never answered 404 or "failed". The store is held
// back by a gate on the database's transactions, opened only after the answer arrived,
// so "the store was late" is certain rather than timed.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { Router } from '../../src/http/index.js';
import { createApp, registerIntakeRoutes, type IntakeRoutes } from '../../src/intake/index.js';
import { updateAppLinks } from '../../src/store/apps.js';
import { getReport } from '../../src/store/reports.js';
import type { Db } from '../../src/store/index.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-deadline-tests';
const APPLICATION_ID = '900000000000000002';
const GUILD = '800000000000000002';
const CHANNEL = '700000000000000002';

/** A database whose transactions wait until the gate opens (queries pass straight through). */
function gatedDb(db: Db): { db: Db; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const gated: Db = {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    transaction: async (fn) => {
      await gate;
      return db.transaction(fn);
    },
    exec: (sql) => db.exec(sql),
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return { db: gated, open };
}

describe('chat answers inside the deadline while the store is slow', () => {
  let h: Harness;
  let server: Server;
  let url: string;
  let routes: IntakeRoutes;
  let gate: { db: Db; open(): void };
  const discordKeys = generateKeyPairSync('ed25519');
  const discordPublicHex = discordKeys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

  beforeAll(async () => {
    h = await openHarness({
      config: { slack: { signingSecret: SIGNING_SECRET }, discord: { applicationId: APPLICATION_ID, publicKey: discordPublicHex } },
    });
    const app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Slow', origins: [], actor: 'test' });
    await updateAppLinks(h.db, h.orgId, app.app.id, { slackTeamId: 'T0SLOW', discordGuildId: GUILD, discordChannelId: CHANNEL }, 'test');
  }, 120_000);
  afterAll(async () => h.close());

  beforeEach(async () => {
    // The same intake routes, on a database whose writes wait for the gate.
    gate = gatedDb(h.db);
    const router = new Router(h.deps.log);
    routes = registerIntakeRoutes(router, { ...h.deps, db: gate.db, chatAckMs: 50 });
    server = createServer((req, res) => void router.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    gate.open();
    await routes.idle();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    nock.cleanAll();
  });

  it('acks a Slack command as received when the store is late, then confirms the stored report on its response_url', async () => {
    const body = new URLSearchParams({
      team_id: 'T0SLOW',
      channel_id: 'C0CHAN',
      user_id: 'U0BOB',
      user_name: 'bob',
      command: '/userz',
      text: 'Checkout spinner never stops',
      response_url: 'https://hooks.slack.com/commands/T0SLOW/42/xyz',
      trigger_id: '1.2.3',
    }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
    let followUp: { response_type: string; text: string } | undefined;
    nock('https://hooks.slack.com')
      .post('/commands/T0SLOW/42/xyz', (b) => {
        followUp = b as typeof followUp;
        return true;
      })
      .reply(200, 'ok');

    const before = await countRows(h.db, 'reports');
    const res = await send(`${url}/slack/events`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/^Received\./) });
    expect(res.json.text).not.toMatch(/could not|sorry|failed/i);
    expect(await countRows(h.db, 'reports')).toBe(before);

    gate.open();
    await routes.idle();
    expect(nock.pendingMocks()).toEqual([]);
    expect(followUp?.response_type).toBe('ephemeral');
    const id = /report (rep_[0-9A-Za-z]+)/.exec(followUp!.text)?.[1];
    expect((await getReport(h.db, id!))?.content.text).toBe('Checkout spinner never stops');
  });

  it('gives a Discord command the deferred answer when the store is late, then follows up with the stored report', async () => {
    const interaction = {
      id: '1000000000000077',
      application_id: APPLICATION_ID,
      type: 2,
      token: 'slow-interaction-token',
      version: 1,
      guild_id: GUILD,
      channel_id: CHANNEL,
      channel: { id: CHANNEL, type: 0 },
      member: { user: { id: '600000000000000002', username: 'carol' } },
      data: { id: '500', name: 'userz', type: 1, options: [{ name: 'report', type: 1, options: [{ name: 'text', type: 3, value: 'Map fails to load' }] }] },
    };
    const body = JSON.stringify(interaction);
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(`${ts}${body}`), discordKeys.privateKey).toString('hex');
    let followUp: { content: string } | undefined;
    nock('https://discord.com')
      .patch(`/api/v10/webhooks/${APPLICATION_ID}/${interaction.token}/messages/%40original`, (b) => {
        followUp = b as { content: string };
        return true;
      })
      .reply(200, { id: '1' });

    const before = await countRows(h.db, 'reports');
    const res = await send(`${url}/discord/interactions`, {
      headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': ts },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ type: 5, data: { flags: 64 } });
    expect(await countRows(h.db, 'reports')).toBe(before);

    gate.open();
    await routes.idle();
    expect(nock.pendingMocks()).toEqual([]);
    const id = /report (rep_[0-9A-Za-z]+)/.exec(followUp!.content)?.[1];
    expect((await getReport(h.db, id!))?.content.text).toBe('Map fails to load');
  });
});
