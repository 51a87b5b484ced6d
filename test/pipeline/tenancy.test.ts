/**
 * The tenancy invariant at the point of minting a forge credential: the report's org, the
 * App's org and the repo's org are one, or the run ends `errored` / `tenant_mismatch` and
 * no token is minted (GitHub) or decrypted (GitLab). Each link is broken on its own, the
 * way an attacker (or a bug) would leave the rows, directly in the database.
 */
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { executeRun, getRun, insertRun } from '../../src/pipeline/index.js';
import { listAudit, newId, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { expectTokenMintAndRevoke } from './scenario.js';

const GL_TOKEN = 'glpat-tenancy-project-token';

type Forge = 'github' | 'gitlab';
type Link = 'report' | 'app' | 'repo' | 'repo_unassigned';

interface Customer {
  orgId: string;
  otherOrgId: string;
  appId: string;
  repoId: string;
  reportId: string;
  runId: string;
  tokenSecretId: string | null;
}

describe('a run mints a forge credential only when report, App and repo share one org', () => {
  let app: TestApp;
  let db: Db;
  const unmatched: string[] = [];
  const onNoMatch = (req: { method?: string; path?: string; hostname?: string }) => void unmatched.push(`${req.method} ${req.hostname}${req.path}`);

  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', github: true });
    db = app.deps.store.db;
    nock.emitter.on('no match', onNoMatch);
  });
  afterAll(async () => {
    nock.emitter.removeListener('no match', onNoMatch);
    await app.close();
  });
  beforeEach(() => {
    unmatched.length = 0;
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  /** One org with a repo on `forge`, an App linked to it, one report in a batch and a run ready to start. */
  async function customer(forge: Forge): Promise<Customer> {
    const orgId = await createTestOrg(db, app.deps.vault, 'acme');
    const otherOrgId = await createTestOrg(db, app.deps.vault, 'rival');
    let tokenSecretId: string | null = null;
    let repoId: string;
    if (forge === 'github') {
      repoId = (await upsertRepo(db, { orgId, forge: 'github', externalId: '777', fullName: 'acme/app', installationId: 99, defaultBranch: 'main' }, 'test'))
        .id;
    } else {
      tokenSecretId = await app.deps.vault.storeSecret(orgId, 'gitlab_token', GL_TOKEN);
      const externalId = String(1000 + Math.floor(Math.random() * 1e6));
      repoId = (
        await upsertRepo(
          db,
          { orgId, forge: 'gitlab', externalId, fullName: 'acme/app', baseUrl: 'https://gitlab.example.com', defaultBranch: 'main', tokenSecretId },
          'test',
        )
      ).id;
    }
    const created = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId, actor: 'test' });
    const appId = created.app.id;
    const batchId = newId('bat');
    const reportId = newId('rep');
    const run = await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO batches (id, app_id, fingerprint, summary, report_count, open_until) VALUES ($1, $2, 'fp', 'Checkout total is wrong', 1, now())`,
        [batchId, appId],
      );
      await tx.query(`INSERT INTO reports (id, org_id, app_id, source, content, batch_id, status) VALUES ($1, $2, $3, 'widget', $4, $5, 'triaged')`, [
        reportId,
        orgId,
        appId,
        JSON.stringify({ text: 'The total is one too high' }),
        batchId,
      ]);
      return insertRun(tx, { orgId, appId, batchId, repoId, state: 'triaged' });
    });
    return { orgId, otherOrgId, appId, repoId, reportId, runId: run.id, tokenSecretId };
  }

  async function breakLink(c: Customer, link: Link): Promise<void> {
    if (link === 'report') await db.query('UPDATE reports SET org_id = $2 WHERE id = $1', [c.reportId, c.otherOrgId]);
    if (link === 'app') await db.query('UPDATE apps SET org_id = $2 WHERE id = $1', [c.appId, c.otherOrgId]);
    if (link === 'repo') await db.query('UPDATE repos SET org_id = $2 WHERE id = $1', [c.repoId, c.otherOrgId]);
    if (link === 'repo_unassigned') await db.query('UPDATE repos SET org_id = NULL WHERE id = $1', [c.repoId]);
  }

  async function decryptions(secretId: string | null): Promise<number> {
    if (!secretId) return 0;
    return (await listAudit(db, { subject: secretId, action: 'secret.decrypt' })).length;
  }

  describe.each<Forge>(['github', 'gitlab'])('on %s', (forge) => {
    it('mints the credential when all three agree (the control: the test can see a mint)', async () => {
      const c = await customer(forge);
      if (forge === 'github') expectTokenMintAndRevoke();
      await executeRun(app.deps.pipeline, c.runId, { finalAttempt: true });
      const run = await getRun(db, c.runId);
      // The sandbox is off in this app, so the run stops right after the session opened.
      expect(run).toMatchObject({ state: 'errored', stateReason: 'sandbox_disabled' });
      expect(await decryptions(c.tokenSecretId)).toBe(forge === 'gitlab' ? 1 : 0);
      expect(unmatched).toEqual([]);
    });

    it.each<Link>(['report', 'app', 'repo', 'repo_unassigned'])(
      'ends errored with tenant_mismatch and mints nothing when the %s link is broken',
      async (link) => {
        const c = await customer(forge);
        await breakLink(c, link);
        // No token mock: any call to GitHub would show up as an unmatched request.
        await executeRun(app.deps.pipeline, c.runId, { finalAttempt: true });
        const run = await getRun(db, c.runId);
        expect(run).toMatchObject({ state: 'errored', stateReason: 'tenant_mismatch' });
        expect(unmatched).toEqual([]);
        expect(await decryptions(c.tokenSecretId)).toBe(0);
        const audit = await listAudit(db, { subject: c.runId, action: 'run.errored' });
        expect(audit).toHaveLength(1);
        expect(audit[0]!.data).toMatchObject({ reason: 'tenant_mismatch' });
      },
    );
  });

  it('decrypts no GitLab token that another org stored, even on a repo of the right org', async () => {
    const c = await customer('gitlab');
    const planted = await app.deps.vault.storeSecret(c.otherOrgId, 'gitlab_token', 'glpat-planted-by-rival');
    await db.query('UPDATE repos SET token_secret_id = $2 WHERE id = $1', [c.repoId, planted]);
    await executeRun(app.deps.pipeline, c.runId, { finalAttempt: true });
    expect(await getRun(db, c.runId)).toMatchObject({ state: 'errored', stateReason: 'gitlab_token_missing' });
    expect(await decryptions(planted)).toBe(0);
  });

  it('checks again when a run resumes at checking, before the token for delivery is minted', async () => {
    const c = await customer('github');
    await db.query(`UPDATE runs SET state = 'checking', changeset_blob = 'runs/x/changeset.json' WHERE id = $1`, [c.runId]);
    await breakLink(c, 'repo');
    await executeRun(app.deps.pipeline, c.runId, { finalAttempt: true });
    expect(await getRun(db, c.runId)).toMatchObject({ state: 'errored', stateReason: 'tenant_mismatch' });
    expect(unmatched).toEqual([]);
  });
});
