/**
 * The reporter hears back (issue 18): when a Userz draft is merged or closed, a Slack
 * reporter gets a message in the original thread with the workspace's bot token, a Discord
 * reporter a message in the original channel through the App's bot, a widget reporter's
 * status endpoint says `merged` or `closed`; once per outcome, with no report text in any.
 */
import { randomUUID } from 'node:crypto';
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { insertRun, startWorker, transitionRun } from '../../src/pipeline/index.js';
import { insertReport, newId, saveSlackInstallation, updateAppLinks, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { githubExample, sendGitHubWebhook } from '../helpers/github.js';
import { waitFor } from './scenario.js';

const BOT_TOKEN = 'xoxb-review-notice-bot-token';
const DISCORD_BOT_TOKEN = 'discord-review-notice-bot-token';
const SECRET_TEXT = 'The cart total is wrong when the coupon SAVE10 is used';

async function draftWithReporters(
  app: TestApp,
  chat: 'slack' | 'discord' = 'slack',
): Promise<{ runId: string; chatReport: string; widgetReport: string; statusToken: string }> {
  const db: Db = app.deps.store.db;
  const { vault } = app.deps;
  const orgId = await createTestOrg(db, vault, 'acme');
  const repo = await upsertRepo(db, { orgId, forge: 'github', externalId: '186853002', fullName: 'acme/app' }, 'test');
  const product = await createApp(db, vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
  const botTokenSecretId = await vault.storeSecret(orgId, 'slack_bot_token', BOT_TOKEN);
  await db.transaction((tx) =>
    saveSlackInstallation(
      tx,
      { teamId: 'T0ACME', appId: product.app.id, orgId, teamName: 'Acme', botUserId: 'B0', botTokenSecretId, installedBy: 'U0ADMIN' },
      'test',
    ),
  );
  if (chat === 'discord') {
    const discordTokenId = await vault.storeSecret(orgId, 'discord_bot_token', DISCORD_BOT_TOKEN);
    await updateAppLinks(
      db,
      orgId,
      product.app.id,
      { discordGuildId: '1100000000000000001', discordChannelId: '1100000000000000002', discordBotTokenSecretId: discordTokenId },
      'test',
    );
  }
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'x', now())`, [batchId, product.app.id]);
  const statusToken = randomUUID().replace(/-/g, '');
  const base = { orgId, appId: product.app.id, content: { text: SECRET_TEXT }, reporterKey: null, attachments: [] };
  const chatReport = await insertReport(
    db,
    chat === 'slack'
      ? {
          ...base,
          id: newId('rep'),
          source: 'slack',
          replyTo: { kind: 'slack', teamId: 'T0ACME', channelId: 'C0BUGS', userId: 'U0ALICE', threadTs: '1700000000.000100' },
          statusToken: null,
        }
      : {
          ...base,
          id: newId('rep'),
          source: 'discord',
          replyTo: {
            kind: 'discord',
            guildId: '1100000000000000001',
            channelId: '1100000000000000002',
            userId: '1100000000000000003',
            applicationId: '1100000000000000004',
          },
          statusToken: null,
        },
    'test',
  );
  const widget = await insertReport(db, { ...base, id: newId('rep'), source: 'widget', replyTo: { kind: 'widget' }, statusToken }, 'test');
  await db.query('UPDATE reports SET batch_id = $1 WHERE id = ANY($2)', [batchId, [chatReport.id, widget.id]]);
  const run = await insertRun(db, { orgId, appId: product.app.id, batchId, repoId: repo.id, state: 'queued' });
  for (const [from, to] of [
    ['queued', 'triaged'],
    ['triaged', 'running'],
    ['running', 'checking'],
    ['checking', 'pr_opened'],
  ] as const) {
    await transitionRun(db, run.id, from, to, { prUrl: to === 'pr_opened' ? 'https://github.com/acme/app/pull/7' : undefined });
  }
  return { runId: run.id, chatReport: chatReport.id, widgetReport: widget.id, statusToken };
}

const widgetStatus = async (app: TestApp, reportId: string, token: string) =>
  (await (await fetch(`${app.url}/api/v1/reports/${reportId}/status`, { headers: { 'x-userz-status-token': token } })).json()) as { status: string };

/** The draft's merge, delivered twice with one delivery id (a redelivery); the worker runs until `told()` says the message went out. */
async function deliverMergedTwice(app: TestApp, runId: string, told: () => boolean, what: string): Promise<void> {
  const payload = githubExample('pull_request', 'closed');
  payload.pull_request.head.ref = `userz/${runId}`;
  payload.pull_request.merged = true;
  const deliveryId = randomUUID();
  for (let i = 0; i < 2; i++) expect((await sendGitHubWebhook(app.url, 'pull_request', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId })).status).toBe(200);
  const worker = startWorker(app.deps.pipeline, { pollMs: 20 });
  try {
    await waitFor(async () => (told() ? true : null), 20_000, what);
    await worker.idle();
  } finally {
    await worker.stop();
  }
}

describe('the reporter hears back when the draft is merged or closed', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', github: true });
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await app.close();
  });

  it('tells a Slack reporter in their thread once, with no report text, and the widget status says merged', async () => {
    const { runId, chatReport: slackReport, widgetReport, statusToken } = await draftWithReporters(app);
    const told: Array<{ channel: string; thread_ts?: string; text: string }> = [];
    nock('https://slack.com', { reqheaders: { authorization: `Bearer ${BOT_TOKEN}` } })
      .post('/api/chat.postMessage', (b: { channel: string; thread_ts?: string; text: string }) => {
        told.push(b);
        return true;
      })
      .reply(200, { ok: true });

    await deliverMergedTwice(app, runId, () => told.length > 0, 'the Slack message');
    expect(nock.pendingMocks()).toEqual([]);
    expect(told).toEqual([
      {
        channel: 'C0BUGS',
        thread_ts: '1700000000.000100',
        text: `<@U0ALICE> Report ${slackReport}: the proposed fix was merged. Thank you for reporting it.`,
        unfurl_links: false,
      },
    ]);
    expect(JSON.stringify(told)).not.toContain('SAVE10');
    expect(await widgetStatus(app, widgetReport, statusToken)).toMatchObject({ status: 'merged' });
    expect(JSON.stringify(await widgetStatus(app, widgetReport, statusToken))).not.toContain('SAVE10');
  });

  it("tells a Discord reporter in the original channel through the App's bot once, with no report text", async () => {
    const { runId, chatReport } = await draftWithReporters(app, 'discord');
    const told: Array<{ content: string; allowed_mentions: unknown }> = [];
    nock('https://discord.com', { reqheaders: { authorization: `Bot ${DISCORD_BOT_TOKEN}` } })
      .post('/api/v10/channels/1100000000000000002/messages', (b: { content: string; allowed_mentions: unknown }) => {
        told.push(b);
        return true;
      })
      .reply(200, { id: '1100000000000000009' });

    await deliverMergedTwice(app, runId, () => told.length > 0, 'the Discord message');
    expect(nock.pendingMocks()).toEqual([]);
    expect(told).toEqual([
      {
        content: `<@1100000000000000003> Report ${chatReport}: the proposed fix was merged. Thank you for reporting it.`,
        allowed_mentions: { users: ['1100000000000000003'] },
      },
    ]);
    expect(JSON.stringify(told)).not.toContain('SAVE10');
  });

  it('says closed when the draft is closed without merging', async () => {
    const { runId, widgetReport, statusToken } = await draftWithReporters(app);
    nock('https://slack.com')
      .post('/api/chat.postMessage', (b: { text: string }) => b.text.includes('closed without being merged'))
      .reply(200, { ok: true });
    const payload = githubExample('pull_request', 'closed');
    payload.pull_request.head.ref = `userz/${runId}`;
    payload.pull_request.merged = false;
    expect((await sendGitHubWebhook(app.url, 'pull_request', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() })).status).toBe(200);
    const worker = startWorker(app.deps.pipeline, { pollMs: 20 });
    try {
      await waitFor(async () => ((await widgetStatus(app, widgetReport, statusToken)).status === 'closed' ? true : null), 20_000, 'closed status');
      await waitFor(async () => (nock.pendingMocks().length === 0 ? true : null), 20_000, 'the Slack message');
      await worker.idle();
    } finally {
      await worker.stop();
    }
  });
});
