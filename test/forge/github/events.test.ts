import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { parsePullRequestEvent } from '../../../src/forge/github/events.js';

type Payload = {
  action: string;
  pull_request: { merged: boolean; number: number; html_url: string; head: { ref: string; repo: { id: number } }; base: { repo: { id: number } } };
};

const pullRequestExamples = (examples as Array<{ name: string; examples: unknown[] }>).find((e) => e.name === 'pull_request')!.examples as Payload[];

/** A real payload for `action`, copied, with the head moved to `ref`. */
function example(action: string, ref = 'userz/run_42'): Payload {
  const found = pullRequestExamples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${action} example`);
  const copy = structuredClone(found);
  copy.pull_request.head.ref = ref;
  return copy;
}

describe('parsePullRequestEvent', () => {
  it('reads a closed, unmerged PR of a run branch as closed', () => {
    const payload = example('closed');
    expect(parsePullRequestEvent(payload)).toEqual({
      runId: 'run_42',
      outcome: 'closed',
      number: payload.pull_request.number,
      url: payload.pull_request.html_url,
      repositoryId: payload.pull_request.base.repo.id,
    });
  });

  it('reads a closed, merged PR as merged', () => {
    const payload = example('closed');
    payload.pull_request.merged = true;
    expect(parsePullRequestEvent(payload)).toMatchObject({ runId: 'run_42', outcome: 'merged' });
  });

  it('reads a reopened PR as reopened', () => {
    expect(parsePullRequestEvent(example('reopened'))).toMatchObject({ runId: 'run_42', outcome: 'reopened' });
  });

  it('ignores other actions on run branches', () => {
    expect(parsePullRequestEvent(example('opened'))).toBeNull();
    expect(parsePullRequestEvent(example('synchronize'))).toBeNull();
  });

  it('ignores PRs whose head is not a run branch', () => {
    expect(parsePullRequestEvent(example('closed', 'changes'))).toBeNull();
    expect(parsePullRequestEvent(example('closed', 'userz/'))).toBeNull();
    expect(parsePullRequestEvent(example('closed', 'userz/../main'))).toBeNull();
    expect(parsePullRequestEvent(example('closed', 'feature/userz/run_42'))).toBeNull();
  });

  it('ignores a fork whose branch borrows the run-branch name', () => {
    const payload = example('closed');
    payload.pull_request.merged = true;
    payload.pull_request.head.repo = { ...payload.pull_request.head.repo, id: payload.pull_request.base.repo.id + 1 };
    expect(parsePullRequestEvent(payload)).toBeNull();
  });

  it('ignores payloads that are not pull request events', () => {
    expect(parsePullRequestEvent(null)).toBeNull();
    expect(parsePullRequestEvent({ action: 'closed' })).toBeNull();
    expect(parsePullRequestEvent('closed')).toBeNull();
  });
});
