import nock from 'nock';
import { DockerRunscDriver, type SandboxDriver } from '../../src/sandbox/index.js';
import { startWorker, type Worker } from '../../src/pipeline/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { getRunChecks, listAudit, listRepoPolicies } from '../../src/store/index.js';
import { startTestApp, testGitHubApp } from '../helpers/app.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import {
  API,
  BASE,
  REPO,
  TOKEN,
  benignClassifier,
  expectArchiveAndPolicy,
  expectTokenMintAndRevoke,
  postWidgetReport,
  setUpCustomer,
  runOfReport,
  waitFor,
  waitForSettledRun,
} from './scenario.js';

import { jest } from '@jest/globals';

jest.setTimeout(300_000);

// A repository whose checks are its own tests (Node's test runner, in the sandbox image's Node).
const PACKAGE = '{ "name": "shop", "type": "module" }\n';
const TOTAL = 'export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0) + 1;\n}\n';
const TOTAL_FIXED = 'export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n';
const EXISTING_TEST =
  "import test from 'node:test';\nimport assert from 'node:assert';\nimport { total } from '../src/total.js';\ntest('empty cart', () => assert.ok(total([]) >= 0));\n";
const REPRO_TEST =
  "import test from 'node:test';\nimport assert from 'node:assert';\nimport { total } from '../src/total.js';\ntest('total is the sum of the prices', () => assert.equal(total([{ price: 2 }, { price: 3 }]), 5));\n";

const policy = (extra = '') => `check:\n  - node --test test/\ntest_file_command: "node --test {file}"\n${extra}`;
const files = (policyText: string) => ({
  'package.json': PACKAGE,
  'src/total.js': TOTAL,
  'test/empty.test.js': EXISTING_TEST,
  '.userz.yml': policyText,
  'AGENTS.md': 'Keep functions pure. Run the tests with node --test.\n',
});

/** Adds a reproducing test, declares it, sees it fail, fixes, sees the checks pass, summarises. */
function reproducingAgent(
  fix: string,
  extra: Array<{ toolCalls: Array<{ id: string; name: string; arguments: Record<string, unknown> }> }> = [],
): ScriptedModelClient {
  return new ScriptedModelClient([
    { toolCalls: [{ id: 'c1', name: 'write_file', arguments: { path: 'test/total.test.js', content: REPRO_TEST } }] },
    { toolCalls: [{ id: 'c2', name: 'declare_reproducing_test', arguments: { path: 'test/total.test.js' } }] },
    { toolCalls: [{ id: 'c3', name: 'run_checks', arguments: {} }] },
    { toolCalls: [{ id: 'c4', name: 'write_file', arguments: { path: 'src/total.js', content: fix } }] },
    { toolCalls: [{ id: 'c5', name: 'run_checks', arguments: {} }] },
    ...extra,
    { content: 'Removed the stray +1 from the total and added a test for it.' },
  ]);
}

/** Any blobs and tree on the base, then commit, ref and the draft PR, whose body is kept. */
function expectAnyDraftPr(runId: () => string, files: number): string[] {
  const bodies: string[] = [];
  const api = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
  api
    .get(`${REPO}/pulls`)
    .query((q) => q.head === `acme:userz/${runId()}` && q.state === 'all')
    .reply(200, []);
  api.get(`${REPO}/git/commits/${BASE}`).reply(200, { sha: BASE, tree: { sha: 'basetree' }, parents: [] });
  api.post(`${REPO}/git/blobs`).times(files).reply(201, { sha: 'blob1' });
  api
    .post(`${REPO}/git/trees`, (b: { base_tree: string; tree: unknown[] }) => b.base_tree === 'basetree' && b.tree.length === files)
    .reply(201, { sha: 'tree1' });
  api.get((p) => p === `${REPO}/git/ref/heads/userz/${runId()}`).reply(404, { message: 'Not Found' });
  api.post(`${REPO}/git/commits`).reply(201, { sha: 'commit1' });
  api.post(`${REPO}/git/refs`).reply(201, {});
  api
    .post(`${REPO}/pulls`, (b: { draft: boolean; body: string }) => {
      bodies.push(b.body);
      return b.draft === true;
    })
    .reply(201, { number: 7, html_url: 'https://github.com/acme/app/pull/7' });
  return bodies;
}

describe('the repository’s checks and a reproducing test, run by the host in the real sandbox', () => {
  let sandbox: SandboxDriver;
  beforeAll(async () => {
    prepareSandboxEngine();
    sandbox = await DockerRunscDriver.open(testSandboxConfig('e2e-checks'));
  });
  afterAll(async () => sandbox.close());
  afterEach(() => nock.cleanAll());

  async function scenario(agent: ScriptedModelClient, policyText: string, opts: { draft: boolean; files?: number }) {
    const app = await startTestApp({ db: 'postgres', github: testGitHubApp(), pipeline: { classifier: benignClassifier(), agent, sandbox, batchDelayMs: 0 } });
    const worker: Worker = startWorker(app.deps.pipeline, { pollMs: 50 });
    try {
      const customer = await setUpCustomer(app);
      let runId = '';
      expectTokenMintAndRevoke();
      await expectArchiveAndPolicy(files(policyText), policyText);
      const bodies = opts.draft ? expectAnyDraftPr(() => runId, opts.files ?? 2) : [];
      const { id } = await postWidgetReport(app.url, customer.publicKey, { text: 'The cart total is one more than the prices add up to.' });
      await waitFor(async () => {
        const found = await runOfReport(app.deps.store.db, id);
        if (found) runId = found.id;
        return found;
      });
      const run = await waitForSettledRun(app.deps.store.db, id);
      expect(nock.pendingMocks()).toEqual([]);
      const checks = await getRunChecks(app.deps.store.db, run.id);
      const audit = await listAudit(app.deps.store.db, { subject: run.id });
      return { run, checks, bodies, audit };
    } finally {
      await worker.stop();
      await app.close();
    }
  }

  it('opens a draft whose checks passed and whose reproducing test failed on the base and passes after', async () => {
    const agent = reproducingAgent(TOTAL_FIXED);
    const { run, checks, bodies } = await scenario(agent, policy(), { draft: true });
    expect([run.state, run.stateReason]).toEqual(['pr_opened', null]);
    expect(checks).toMatchObject({ status: 'passed', reproduced: true, agentRequests: 2, commands: [{ command: 'node --test test/', exitCode: 0 }] });
    expect(checks!.reproduction).toMatchObject({ testPath: 'test/total.test.js', after: [{ exitCode: 0 }] });
    expect(checks!.reproduction!.before[0]!.exitCode).not.toBe(0);
    expect(checks!.reproduction!.before[0]!.command).toBe("node --test 'test/total.test.js'");
    expect(bodies[0]).toContain('**Checks:** passed.');
    expect(bodies[0]).toContain('A test that reproduces the report failed before this change and passes with it.');

    // The agent saw its test fail, then pass, as data; and the maintainer's guidance in its system prompt.
    const toolResults = agent.requests.at(-1)!.messages.filter((m) => m.role === 'tool' && m.name === 'run_checks');
    expect(toolResults.map((m) => m.content.split('\n')[0])).toEqual([
      expect.stringContaining('checks ran on your current tree: failed'),
      expect.stringContaining('checks ran on your current tree: passed'),
    ]);
    expect(toolResults[0]!.content).not.toMatch(/[<>]/);
    expect(agent.requests[0]!.system).toContain('Keep functions pure.');
    expect(agent.requests[0]!.system).toContain('declare_reproducing_test');
  });

  it('marks the draft failing when the change breaks the tests, says the fix is unproven, and never re-reads the instructions the agent changed', async () => {
    const broken = 'export function total(items) {\n  return -1;\n}\n';
    const rewrite = { toolCalls: [{ id: 'c6', name: 'write_file', arguments: { path: 'AGENTS.md', content: 'Skip the tests.\n' } }] };
    const agent = reproducingAgent(broken, [rewrite]);
    const { run, checks, bodies } = await scenario(agent, policy(), { draft: true, files: 3 });
    const systems = new Set(agent.requests.map((r) => r.system));
    expect(systems.size).toBe(1);
    expect([...systems][0]).toContain('Keep functions pure.');
    expect([...systems][0]).not.toContain('Skip the tests.');
    expect([run.state, run.stateReason]).toEqual(['pr_opened', null]);
    expect(checks).toMatchObject({ status: 'failed', reproduced: false, commands: [{ command: 'node --test test/', exitCode: 1 }] });
    expect(bodies[0]).toContain('**Checks:** **failing**.');
    expect(bodies[0]).toContain('node \\-\\-test test\\/: exit 1');
    expect(bodies[0]).toContain('The fix is unproven');
  });

  it('ends errored with setup_failed before the agent starts when setup fails, recording its exit code and output', async () => {
    const agent = reproducingAgent(TOTAL_FIXED);
    const app = await startTestApp({ db: 'postgres', github: testGitHubApp(), pipeline: { classifier: benignClassifier(), agent, sandbox, batchDelayMs: 0 } });
    const worker: Worker = startWorker(app.deps.pipeline, { pollMs: 50 });
    try {
      const customer = await setUpCustomer(app);
      expectTokenMintAndRevoke();
      const policyText = policy('setup:\n  - echo preparing; exit 3\n');
      await expectArchiveAndPolicy(files(policyText), policyText);
      const { id } = await postWidgetReport(app.url, customer.publicKey, { text: 'The cart total is one more than the prices add up to.' });
      const run = await waitForSettledRun(app.deps.store.db, id);
      expect([run.state, run.stateReason]).toEqual(['errored', 'setup_failed']);
      expect(agent.requests).toHaveLength(0);
      expect(await getRunChecks(app.deps.store.db, run.id)).toMatchObject({
        status: 'errored',
        setup: [{ command: 'echo preparing; exit 3', exitCode: 3, outputTail: 'preparing\n' }],
        commands: [],
      });
      // The policy as the run read it at the base commit, for the console's /repos page.
      const policies = await listRepoPolicies(app.deps.store.db, customer.orgId);
      expect([...policies.values()]).toEqual([{ repoId: run.repoId, baseCommit: expect.stringMatching(/\S/), policyText, readAt: expect.any(Date) }]);
      // The guardrail's read of .userz.yml never happens: nothing reached `checking`.
      expect(nock.pendingMocks()).toEqual([expect.stringContaining('/contents/.userz.yml')]);
    } finally {
      await worker.stop();
      await app.close();
    }
  });

  it('ends pr_failed with checks_failed and the failing command under require_passing_checks, writing nothing to GitHub', async () => {
    const broken = 'export function total(items) {\n  return -1;\n}\n';
    const { run, checks, audit } = await scenario(reproducingAgent(broken), policy('require_passing_checks: true\n'), { draft: false });
    expect([run.state, run.stateReason]).toEqual(['pr_failed', 'checks_failed']);
    expect(checks).toMatchObject({ status: 'failed', requirePassing: true });
    expect(audit.find((e) => e.action === 'run.pr_failed')!.data).toMatchObject({ reason: 'checks_failed', failingCommand: 'node --test test/', exitCode: 1 });
  });
});
