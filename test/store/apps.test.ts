import { createApp } from '../../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import {
  findAppByDiscordGuild,
  findAppByPublicKey,
  findAppBySlackTeam,
  getApp,
  getSlackInstallation,
  isOriginAllowedByAnyApp,
  listApps,
  saveSlackInstallation,
  updateAppLinks,
} from '../../src/store/apps.js';
import { listAudit, type Db } from '../../src/store/index.js';
import { DB_KINDS, openTestDb, createTestOrg } from '../helpers/db.js';

describe.each(DB_KINDS)('apps store on %s', (kind) => {
  let db: Db;
  let vault: Vault;
  let orgId: string;

  beforeEach(async () => {
    db = await openTestDb(kind);
    vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
    orgId = await createTestOrg(db, vault, 'Acme');
  });
  afterEach(async () => db.close());

  it('creates an App with a pub_ key, normalised origins and an encrypted signing secret', async () => {
    const created = await createApp(db, vault, { orgId, name: ' Shop ', origins: ['https://shop.example/', 'http://localhost:5173'], actor: 'test' });
    expect(created.publicKey).toMatch(/^pub_[0-9A-Za-z]{24}$/);
    expect(created.app.origins).toEqual(['https://shop.example', 'http://localhost:5173']);
    expect(created.app.name).toBe('Shop');
    const [secret] = await db.query<{ ciphertext: Buffer; kind: string }>('SELECT ciphertext, kind FROM secrets WHERE id = $1', [created.app.signingSecretId]);
    expect(secret!.kind).toBe('app_signing_secret');
    expect(Buffer.from(secret!.ciphertext).toString('utf8')).not.toContain(created.signingSecret);
    expect(await vault.revealSecret(created.app.signingSecretId!, { actor: 'test', purpose: 'test' })).toBe(created.signingSecret);
    expect((await findAppByPublicKey(db, created.publicKey))?.id).toBe(created.app.id);
    expect(await listApps(db, orgId)).toHaveLength(1);
    expect((await listAudit(db, { subject: created.app.id, action: 'app.create' })).length).toBe(1);
  });

  it.each([
    'https://shop.example/path',
    'ftp://shop.example',
    'https://user:pw@shop.example',
    'https://shop.example?x=1',
    'not a url',
    'https://shop.example#x',
  ])('refuses the origin %s', async (origin) => {
    await expect(createApp(db, vault, { orgId, name: 'Shop', origins: [origin], actor: 'test' })).rejects.toMatchObject({
      code: 'invalid_origin',
      status: 400,
    });
    expect(await listApps(db, orgId)).toHaveLength(0);
  });

  it('links Slack and Discord, finds the App by workspace and guild, and refuses a guild already taken', async () => {
    const a = await createApp(db, vault, { orgId, name: 'A', origins: [], actor: 'test' });
    const b = await createApp(db, vault, { orgId, name: 'B', origins: [], actor: 'test' });
    await updateAppLinks(db, orgId, a.app.id, { slackTeamId: 'T1', slackChannelId: 'C1', discordGuildId: '123456789', discordChannelId: '987654321' }, 'test');
    expect((await findAppBySlackTeam(db, 'T1'))?.id).toBe(a.app.id);
    expect((await findAppByDiscordGuild(db, '123456789'))?.id).toBe(a.app.id);
    await expect(updateAppLinks(db, orgId, b.app.id, { discordGuildId: '123456789' }, 'test')).rejects.toMatchObject({ code: 'link_taken', status: 409 });
    await expect(updateAppLinks(db, 'org_other', a.app.id, { name: 'X' }, 'test')).rejects.toMatchObject({ code: 'app_not_found' });
    const cleared = await updateAppLinks(db, orgId, a.app.id, { discordGuildId: null }, 'test');
    expect(cleared.discordGuildId).toBeNull();
  });

  it('answers whether any App allows an origin', async () => {
    await createApp(db, vault, { orgId, name: 'A', origins: ['https://a.example'], actor: 'test' });
    expect(await isOriginAllowedByAnyApp(db, 'https://a.example')).toBe(true);
    expect(await isOriginAllowedByAnyApp(db, 'https://b.example')).toBe(false);
  });

  it('saves a Slack installation and moves the workspace to the newly installed App', async () => {
    const a = await createApp(db, vault, { orgId, name: 'A', origins: [], actor: 'test' });
    const b = await createApp(db, vault, { orgId, name: 'B', origins: [], actor: 'test' });
    await db.transaction((tx) =>
      saveSlackInstallation(tx, { teamId: 'T9', appId: a.app.id, orgId, teamName: 'W', botUserId: 'UB', botTokenSecretId: null, installedBy: 'U1' }, 'test'),
    );
    await db.transaction((tx) =>
      saveSlackInstallation(tx, { teamId: 'T9', appId: b.app.id, orgId, teamName: 'W', botUserId: 'UB', botTokenSecretId: null, installedBy: 'U1' }, 'test'),
    );
    expect((await getSlackInstallation(db, 'T9'))?.appId).toBe(b.app.id);
    expect((await getApp(db, a.app.id))?.slackTeamId).toBeNull();
    expect((await getApp(db, b.app.id))?.slackTeamId).toBe('T9');
  });
});
