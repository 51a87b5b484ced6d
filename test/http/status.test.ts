import { ERROR_CODES, ERROR_CODES_BY_MODULE, isUserzErrorCode } from '../../src/error-codes.js';
import { UserzError } from '../../src/errors.js';
import { CODE_TO_STATUS, codeToStatus } from '../../src/http/status.js';

describe('the code → status table', () => {
  it('gives every error code of every module exactly one HTTP error status, and lists nothing else', () => {
    expect(Object.keys(CODE_TO_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const status = codeToStatus(code);
      expect({ code, status, isErrorStatus: Number.isInteger(status) && status >= 400 && status <= 599 }).toEqual({ code, status, isErrorStatus: true });
    }
  });

  it('has each code in one module only', () => {
    const owners = new Map<string, string[]>();
    for (const [module, codes] of Object.entries(ERROR_CODES_BY_MODULE)) {
      for (const code of codes) owners.set(code, [...(owners.get(code) ?? []), module]);
    }
    expect([...owners].filter(([, modules]) => modules.length > 1)).toEqual([]);
    expect(ERROR_CODES.length).toBe(owners.size);
  });

  it('answers one status per code wherever it is thrown (codes that had two)', () => {
    expect({
      report_not_found: codeToStatus('report_not_found'),
      run_not_found: codeToStatus('run_not_found'),
      bad_signature: codeToStatus('bad_signature'),
      slack_oauth_failed: codeToStatus('slack_oauth_failed'),
      invalid_input: codeToStatus('invalid_input'),
    }).toEqual({ report_not_found: 404, run_not_found: 404, bad_signature: 401, slack_oauth_failed: 502, invalid_input: 400 });
  });

  it('gives the status to the error from its code, not from the thrower', () => {
    expect(new UserzError('report_not_found', 'No report r_1')).toMatchObject({ code: 'report_not_found', status: 404 });
    // Modules that never answer a request do not choose: a sandbox timeout escaping to an edge is our failure.
    expect(new UserzError('sandbox_timeout', 'The command ran out of time', { retryable: true })).toMatchObject({ status: 500, retryable: true });
  });

  it('recognises known codes that arrive as text and refuses others', () => {
    expect(['report_not_found', 'no_such_code', 42, undefined].map(isUserzErrorCode)).toEqual([true, false, false, false]);
  });
});
