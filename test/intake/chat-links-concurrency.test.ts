// Link codes under concurrency on real Postgres (issue 11, item 4): one code sent from many
// workspaces at once links exactly one of them, and two Apps' codes sent from one workspace
// at once link it to exactly one App, leaving the other code unused. Requests are really
// signed (Slack v0 HMAC, Discord Ed25519 with a fresh key pair). Wrong codes are limited
// per workspace or server.
import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import nock from 'nock';
import { FAILED_LINK_ATTEMPTS } from '../../src/intake/chat-links.js';
import { openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const SIGNING_SECRET = 'slack-signing-secret-for-link-race-0123';
const APPLICATION_ID = '900000000000000004';
const MANAGE_GUILD = String(1 << 5);
const ATTEMPTS = 20;

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

function slackRequest(teamId: string, text: string): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams({
    team_id: teamId,
    channel_id: 'C0RACE',
    user_id: 'U0RACER',
    command: '/userz',
    text,
    response_url: 'https://hooks.slack.com/commands/T0/1/abc',
  }).toString();
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` } };
}

let seq = 0;
function discordRequest(guildId: string, code: string): { body: string; headers: Record<string, string> } {
  seq++;
  const body = JSON.stringify({
    id: `30000000000000${String(seq).padStart(4, '0')}`,
    application_id: APPLICATION_ID,
    type: 2,
    token: `race-token-${seq}`,
    version: 1,
    guild_id: guildId,
    channel: { id: '700000000000000004', type: 0 },
    member: { user: { id: '600000000000000004' }, permissions: MANAGE_GUILD },
    data: { id: '500', name: 'userz', type: 1, options: [{ name: 'link', type: 1, options: [{ name: 'code', type: 3, value: code }] }] },
  });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.from(`${ts}${body}`), privateKey).toString('hex');
  return { body, headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': ts } };
}

describe('chat link codes used concurrently (Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness({
      db: 'postgres',
      config: { slack: { signingSecret: SIGNING_SECRET }, discord: { applicationId: APPLICATION_ID, publicKey: publicKeyHex } },
    });
  });
  afterAll(async () => h.close());
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  const json = {
    get authorization() {
      return `Bearer ${h.apiKey}`;
    },
    'content-type': 'application/json',
  };
  const newApp = async () =>
    (await send(`${h.url}/api/v1/apps`, { headers: { ...json }, body: JSON.stringify({ name: 'Race', origins: [] }) })).json.app.id as string;
  const newCode = async (appId: string, provider: 'slack' | 'discord') =>
    (await send(`${h.url}/api/v1/apps/${appId}/chat-link-codes`, { headers: { ...json }, body: JSON.stringify({ provider }) })).json.code as string;
  const codeRow = async (code: string) => {
    const [row] = await h.db.query<{ used_at: Date | null; used_for: string | null }>('SELECT used_at, used_for FROM chat_link_codes WHERE code_hash = $1', [
      createHash('sha256').update(code.replace(/-/g, '')).digest('hex'),
    ]);
    return row!;
  };
  const slack = async (teamId: string, text: string) => {
    const { body, headers } = slackRequest(teamId, text);
    const res = await send(`${h.url}/slack/events`, { headers, body });
    expect(res.status).toBe(200);
    return res.json.text as string;
  };
  const discord = async (guildId: string, code: string) => {
    const { body, headers } = discordRequest(guildId, code);
    const res = await send(`${h.url}/discord/interactions`, { headers, body });
    expect(res.status).toBe(200);
    return res.json.data.content as string;
  };

  it(`links exactly one of ${ATTEMPTS} Slack workspaces that send one code at the same time`, async () => {
    const appId = await newApp();
    const code = await newCode(appId, 'slack');
    const teams = Array.from({ length: ATTEMPTS }, (_, i) => `T0RACE${String(i).padStart(2, '0')}`);
    const replies = await Promise.all(teams.map((t) => slack(t, `link ${code}`)));
    const winners = teams.filter((_, i) => replies[i]!.startsWith('Linked'));
    expect(winners).toHaveLength(1);
    expect(replies.filter((r) => r.includes('not valid'))).toHaveLength(ATTEMPTS - 1);
    const linked = await h.db.query<{ id: string }>('SELECT id FROM apps WHERE slack_team_id = ANY($1)', [teams]);
    expect(linked).toEqual([{ id: appId }]);
    expect((await codeRow(code)).used_for).toBe(winners[0]);
  });

  it(`links exactly one of ${ATTEMPTS} Discord servers that send one code at the same time`, async () => {
    const appId = await newApp();
    const code = await newCode(appId, 'discord');
    const guilds = Array.from({ length: ATTEMPTS }, (_, i) => `8100000000000000${String(i).padStart(2, '0')}`);
    const replies = await Promise.all(guilds.map((g) => discord(g, code)));
    const winners = guilds.filter((_, i) => replies[i]!.startsWith('Linked'));
    expect(winners).toHaveLength(1);
    const linked = await h.db.query<{ id: string }>('SELECT id FROM apps WHERE discord_guild_id = ANY($1)', [guilds]);
    expect(linked).toEqual([{ id: appId }]);
    expect((await codeRow(code)).used_for).toBe(winners[0]);
  });

  it('links one workspace to exactly one of two Apps whose codes it sends at the same time, and keeps the other code unused', async () => {
    const [first, second] = [await newApp(), await newApp()];
    const codes = [await newCode(first, 'slack'), await newCode(second, 'slack')];
    const replies = await Promise.all(codes.map((c) => slack('T0CONTESTED', `link ${c}`)));
    expect(replies.filter((r) => r.startsWith('Linked'))).toHaveLength(1);
    expect(replies.filter((r) => r.includes('already linked to another App'))).toHaveLength(1);
    const owners = await h.db.query<{ id: string }>('SELECT id FROM apps WHERE slack_team_id = $1', ['T0CONTESTED']);
    expect(owners).toHaveLength(1);
    const loserCode = codes[owners[0]!.id === first ? 1 : 0]!;
    expect((await codeRow(loserCode)).used_at).toBeNull();
  });

  const wrongCode = (i: number) => `UZL-AAAA-BBBB-CCCC-DDDD-${'ABCDEFGHIJKLMNOP'[i]}AAA`;

  it('refuses every link attempt from a Slack workspace after too many wrong codes, the right one too, and leaves the code usable elsewhere', async () => {
    const appId = await newApp();
    const code = await newCode(appId, 'slack');
    for (let i = 0; i < FAILED_LINK_ATTEMPTS.limit; i++) expect(await slack('T0GUESSER', `link ${wrongCode(i)}`)).toContain('not valid');
    expect(await slack('T0GUESSER', `link ${code}`)).toMatch(/^Too many wrong link codes from this Slack workspace; try again in \d+ s/);
    expect((await codeRow(code)).used_at).toBeNull();
    expect((await h.db.query('SELECT 1 FROM apps WHERE slack_team_id = $1', ['T0GUESSER'])).length).toBe(0);
    expect(await slack('T0PATIENT', `link ${code}`)).toMatch(/^Linked/);
  });

  it('refuses every link attempt from a Discord server after too many wrong codes', async () => {
    const appId = await newApp();
    const code = await newCode(appId, 'discord');
    const guild = '820000000000000001';
    for (let i = 0; i < FAILED_LINK_ATTEMPTS.limit; i++) expect(await discord(guild, wrongCode(i))).toContain('not valid');
    expect(await discord(guild, code)).toMatch(/^Too many wrong link codes from this Discord server/);
    expect((await codeRow(code)).used_at).toBeNull();
  });
});
