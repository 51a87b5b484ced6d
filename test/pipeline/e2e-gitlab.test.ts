import { jest } from '@jest/globals';
import { createHmac } from 'node:crypto';
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { startWorker } from '../../src/pipeline/index.js';
import { DockerRunscDriver, type SandboxDriver } from '../../src/sandbox/index.js';
import { saveSlackInstallation, upsertRepo } from '../../src/store/index.js';
import { startTestApp } from '../helpers/app.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import { APP_JS, APP_JS_FIXED, BASE, benignClassifier, editingAgent, repoTarGz, runOfReport, waitFor, waitForSettledRun } from './scenario.js';
import { createTestOrg } from '../helpers/db.js';

jest.setTimeout(240_000);

const HOST = 'https://gitlab.example.com';
const P = '/api/v4/projects/42';
const GL_TOKEN = 'glpat-e2e-project-token';
const SLACK_SECRET = 'slack-signing-secret-e2e-0123456789';
const BOT_TOKEN = 'xoxb-e2e-bot-token';
const json = { 'content-type': 'application/json' };

function signedSlash(text: string): { headers: Record<string, string>; body: string } {
  const body = new URLSearchParams({
    team_id: 'T0ACME',
    channel_id: 'C0BUGS',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/userz',
    text,
    api_app_id: 'A0APP',
    response_url: 'https://hooks.slack.com/commands/T0/1/abc',
    trigger_id: '1.2.3',
  }).toString();
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` } };
}

describe('a Slack report becomes a Draft: MR on self-hosted GitLab, and the reporter is told in Slack', () => {
  let sandbox: SandboxDriver;
  beforeAll(async () => {
    prepareSandboxEngine();
    sandbox = await DockerRunscDriver.open(testSandboxConfig('e2e-gitlab'));
  });
  afterAll(async () => sandbox.close());
  afterEach(() => nock.cleanAll());

  it('runs the pipeline end to end with the stored project token', async () => {
    const agent = editingAgent([{ path: 'src/total.js', search: ' + 1;', replace: ';' }]);
    const app = await startTestApp({
      db: 'postgres',
      env: { SLACK_SIGNING_SECRET: SLACK_SECRET },
      pipeline: { classifier: benignClassifier(), agent, sandbox, batchDelayMs: 0 },
    });
    const worker = startWorker(app.deps.pipeline, { pollMs: 50 });
    try {
      const { db } = app.deps.store;
      const { vault } = app.deps;
      const orgId = await createTestOrg(db, vault, 'acme');
      const tokenSecretId = await vault.storeSecret(orgId, 'gitlab_token', GL_TOKEN);
      const repo = await upsertRepo(
        db,
        { orgId, forge: 'gitlab', externalId: '42', fullName: 'acme/app', baseUrl: HOST, defaultBranch: 'main', tokenSecretId },
        'test',
      );
      const product = await createApp(db, vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
      const botTokenSecretId = await vault.storeSecret(orgId, 'slack_bot_token', BOT_TOKEN);
      await db.transaction((tx) =>
        saveSlackInstallation(
          tx,
          { teamId: 'T0ACME', appId: product.app.id, orgId, teamName: 'Acme', botUserId: 'B0', botTokenSecretId, installedBy: 'U0ADMIN' },
          'test',
        ),
      );

      let runId = '';
      const gitlab = () => nock(HOST, { reqheaders: { 'private-token': GL_TOKEN } });
      gitlab()
        .get(`${P}/repository/branches/main`)
        .reply(200, { name: 'main', commit: { id: BASE } }, json);
      gitlab()
        .get(`${P}/repository/archive.tar.gz`)
        .query({ sha: BASE })
        .reply(200, await repoTarGz({ 'src/total.js': APP_JS }));
      gitlab().get(`${P}/repository/files/.userz.yml`).query({ ref: BASE }).reply(404, { message: '404 File Not Found' }, json);
      gitlab()
        .get(`${P}/merge_requests`)
        .query((q) => q.source_branch === `userz/${runId}` && q.state === 'all')
        .reply(200, [], json);
      gitlab()
        .get((p) => p === `${P}/repository/branches/${encodeURIComponent(`userz/${runId}`)}`)
        .reply(404, { message: '404 Branch Not Found' }, json);
      gitlab()
        .post(`${P}/repository/commits`, (b: { branch: string; start_sha: string; actions: unknown[] }) => {
          return (
            b.branch === `userz/${runId}` &&
            b.start_sha === BASE &&
            JSON.stringify(b.actions) ===
              JSON.stringify([
                {
                  action: 'update',
                  file_path: 'src/total.js',
                  content: Buffer.from(APP_JS_FIXED).toString('base64'),
                  encoding: 'base64',
                  execute_filemode: false,
                },
              ])
          );
        })
        .reply(201, { id: 'c'.repeat(40) }, json);
      gitlab()
        .post(
          `${P}/merge_requests`,
          (b: { title: string; source_branch: string; target_branch: string }) =>
            b.title.startsWith('Draft: ') && b.source_branch === `userz/${runId}` && b.target_branch === 'main',
        )
        .reply(201, { iid: 3, web_url: `${HOST}/acme/app/-/merge_requests/3` }, json);
      const told: string[] = [];
      nock('https://slack.com', { reqheaders: { authorization: `Bearer ${BOT_TOKEN}` } })
        .post('/api/chat.postMessage', (b: { channel: string; text: string }) => {
          told.push(b.text);
          return b.channel === 'C0BUGS';
        })
        .reply(200, { ok: true });

      const slash = signedSlash('The cart total is one more than the sum of the prices.');
      const ack = await fetch(`${app.url}/slack/events`, { method: 'POST', headers: slash.headers, body: slash.body });
      expect(ack.status).toBe(200);
      const reportId = /(rep_[0-9A-Za-z]+)/.exec(JSON.stringify(await ack.json()))![1]!;

      const found = await waitFor(() => runOfReport(db, reportId), 60_000, 'a run');
      runId = found.id;
      const run = await waitForSettledRun(db, reportId);
      expect([run.state, run.stateReason, run.prUrl]).toEqual(['pr_opened', null, `${HOST}/acme/app/-/merge_requests/3`]);
      expect(nock.pendingMocks()).toEqual([]);
      expect(told).toHaveLength(1);
      expect(told[0]).toContain(`${HOST}/acme/app/-/merge_requests/3`);
      expect(told[0]).not.toContain(GL_TOKEN);
    } finally {
      await worker.stop();
      await app.close();
    }
  });
});
