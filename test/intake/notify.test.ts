import { messageFor, publicOutcome } from '../../src/intake/index.js';

describe('chat replies to the reporter', () => {
  it('are scrubbed of personal data and secrets whatever reason they carry', () => {
    const reason = 'jane.roe@example.com at +1 415 555 0132 paid with 4111 1111 1111 1111 using token ghp_A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5A1b2C3';
    const text = messageFor('rep_3kT9abcdefghijklmnopqr', publicOutcome({ kind: 'refused', reason }));
    expect(text).not.toMatch(/jane|example\.com|415|0132|4111|ghp_/);
    expect(text).toContain('redacted');
    expect(text).toContain('rep_3kT9abcdefghijklmnopqr');
  });

  it('keep the report id and the PR link intact', () => {
    const text = messageFor('rep_3kT9abcdefghijklmnopqr', publicOutcome({ kind: 'pr_opened', url: 'https://github.com/acme/app/pull/7' }));
    expect(text).toBe('Thanks for report rep_3kT9abcdefghijklmnopqr: a fix is proposed for review: https://github.com/acme/app/pull/7');
  });

  it('scrub the refusal reason the widget status shows, too', () => {
    const outcome = publicOutcome({ kind: 'refused', reason: 'duplicate of the one from jane.roe@example.com' });
    expect(outcome).toEqual({ kind: 'refused', reason: 'duplicate of the one from redacted email' });
  });
});
