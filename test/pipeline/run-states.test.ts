import { failedRunState, TRANSITIONS } from '../../src/pipeline/states.js';

describe('the run state a failure ends in, by its code', () => {
  it('fails the draft closed for a repository policy that does not parse while checking, and errors the run otherwise', () => {
    expect({
      policyWhileChecking: failedRunState('checking', 'policy_invalid'),
      policyWhileRunning: failedRunState('running', 'policy_invalid'),
      sandboxTimeout: failedRunState('running', 'sandbox_timeout'),
      forgeDown: failedRunState('checking', 'forge_unavailable'),
      unknown: failedRunState('triaged', 'internal_error'),
    }).toEqual({ policyWhileChecking: 'pr_failed', policyWhileRunning: 'errored', sandboxTimeout: 'errored', forgeDown: 'errored', unknown: 'errored' });
  });

  it('only names states the run can move to from where it is', () => {
    for (const from of ['triaged', 'running', 'checking'] as const) {
      for (const code of ['policy_invalid', 'tenant_mismatch', 'model_timeout'] as const) expect(TRANSITIONS[from]).toContain(failedRunState(from, code));
    }
  });
});
