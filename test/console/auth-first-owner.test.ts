import { opsDeps } from '../../src/main.js';
import { runOperation } from '../../src/ops/index.js';
import { listMemberships, listOrgs } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { openVerificationLink, outboxLink, postForm, TEST_PASSWORD } from '../helpers/console-session.js';

// Who owns the first org: on the embedded database the first user to verify; on Postgres only
// the owner `userz init --owner` named. (No helper here: signedInMember removes what these rules make.)
async function signUpAndVerify(app: TestApp, email: string, name: string): Promise<string> {
  const r = await postForm(app, '/sign-up', { name, email, password: TEST_PASSWORD });
  expect(r.status).toBe(200);
  await openVerificationLink(app, await outboxLink(app, email, 'verify-email'));
  const [user] = await app.deps.store.db.query<{ id: string }>('SELECT id FROM auth_users WHERE email = $1', [email]);
  return user!.id;
}

describe('first owner on the embedded database', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
  });
  afterAll(async () => app.close());

  it('makes the first user to verify owner of a new org named after them, and nobody after', async () => {
    expect(await listOrgs(app.deps.store.db)).toEqual([]);
    const first = await signUpAndVerify(app, 'first@example.test', 'Ada');
    const orgs = await listOrgs(app.deps.store.db);
    expect(orgs.map((o) => o.name)).toEqual(["Ada's org"]);
    expect(await listMemberships(app.deps.store.db, first)).toEqual([{ orgId: orgs[0]!.id, orgName: "Ada's org", role: 'owner' }]);
    const second = await signUpAndVerify(app, 'second@example.test', 'Bob');
    expect(await listMemberships(app.deps.store.db, second)).toEqual([]);
    expect(app.logText()).toContain('the first user to sign up and verify their email becomes owner of the first org');
    expect(app.logText()).toContain('First user verified on the embedded database');
  });
});

describe('first owner on Postgres', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
  });
  afterAll(async () => app.close());

  it('makes no one owner without a named owner', async () => {
    await createTestOrg(app.deps.store.db, app.deps.vault);
    const user = await signUpAndVerify(app, 'someone@example.test', 'Someone');
    expect(await listMemberships(app.deps.store.db, user)).toEqual([]);
    expect(app.logText()).toContain('on Postgres the first sign-up is not made owner');
  });
});

describe('userz init --owner', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
  });
  afterAll(async () => app.close());

  it('names the owner, who becomes owner when that address verifies; another address does not', async () => {
    const r = (await runOperation(opsDeps(app.deps), 'init', { name: 'Acme', owner: 'Boss@Example.test' })) as { orgId: string; owner: string };
    expect(r.owner).toBe('boss@example.test');
    const other = await signUpAndVerify(app, 'not-boss@example.test', 'Not');
    expect(await listMemberships(app.deps.store.db, other)).toEqual([]);
    const boss = await signUpAndVerify(app, 'boss@example.test', 'Boss');
    expect(await listMemberships(app.deps.store.db, boss)).toEqual([{ orgId: r.orgId, orgName: 'Acme', role: 'owner' }]);
  });
});

describe('userz init --owner for an address already verified', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
  });
  afterAll(async () => app.close());

  it('makes that user owner at once', async () => {
    const early = await signUpAndVerify(app, 'early@example.test', 'Early');
    const r = (await runOperation(opsDeps(app.deps), 'init', { name: 'Early Co', owner: 'early@example.test' })) as { orgId: string };
    expect(await listMemberships(app.deps.store.db, early)).toEqual([{ orgId: r.orgId, orgName: 'Early Co', role: 'owner' }]);
  });
});
