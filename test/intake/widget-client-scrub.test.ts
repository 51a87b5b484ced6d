import { describe, expect, it } from '@jest/globals';
import { DEFAULT_DENYLIST, scrubBody, scrubHeaders, scrubText, stripQueryValues } from '../../src/intake/widget/client/scrub.js';
import { reporterPhase } from '../../src/intake/widget/report-phase.js';

describe('the widget’s on-device scrubber', () => {
  it('replaces emails, Luhn-valid card numbers and token shapes, and leaves ordinary numbers', () => {
    expect(scrubText('mail ada@example.com now')).toBe('mail [email] now');
    expect(scrubText('card 4111 1111 1111 1111 ok')).toBe('card [card] ok');
    expect(scrubText('order 4111 1111 1111 1112')).toBe('order 4111 1111 1111 1112'); // fails Luhn
    expect(scrubText('Authorization: Bearer abc.def-123456')).toBe('Authorization: [token]');
    expect(scrubText('jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl')).toBe('jwt [token]');
    expect(scrubText(`key sk_live_${'a1'.repeat(12)}`)).toBe('key [token]');
    expect(scrubText(`hex ${'0f'.repeat(20)}`)).toBe('hex [token]');
    expect(scrubText('line 42 of 1000, id 12345')).toBe('line 42 of 1000, id 12345');
  });

  it('scrubs denylisted JSON keys at any depth and header names case-insensitively', () => {
    const deny = new Set([...DEFAULT_DENYLIST, 'x-session']);
    expect(JSON.parse(scrubBody(JSON.stringify({ user: { Password: 'p', name: 'n' }, items: [{ token: 't' }] }), deny))).toEqual({
      user: { Password: '[scrubbed]', name: 'n' },
      items: [{ token: '[scrubbed]' }],
    });
    expect(scrubBody('not json ada@example.com', deny)).toBe('not json [email]');
    expect(
      scrubHeaders(
        [
          ['X-Session', 'abc'],
          ['Cookie', 'a=b'],
          ['Accept', 'text/html'],
        ],
        deny,
      ),
    ).toEqual({ 'x-session': '[scrubbed]', cookie: '[scrubbed]', accept: 'text/html' });
  });

  it('keeps query keys and drops their values and the fragment', () => {
    expect(stripQueryValues('/api/cart?session=abc&user=ada@example.com&user=2#frag', 'https://shop.example/x')).toBe(
      'https://shop.example/api/cart?session=&user=',
    );
    expect(stripQueryValues('https://shop.example/plain', 'https://shop.example/')).toBe('https://shop.example/plain');
  });
});

describe('the reporter’s phase of a report', () => {
  const report = (status: string, outcome: Parameters<typeof reporterPhase>[0]['outcome'] = null) => ({ status, outcome });
  it('moves from received through being fixed and fix proposed to fixed, and says not planned for refusals', () => {
    expect(reporterPhase(report('received'), null)).toBe('received');
    expect(reporterPhase(report('needs_review'), null)).toBe('received');
    expect(reporterPhase(report('triaged'), { state: 'queued', reviewState: null })).toBe('being_fixed');
    expect(reporterPhase(report('triaged'), { state: 'running', reviewState: null })).toBe('being_fixed');
    expect(reporterPhase(report('triaged'), { state: 'needs_review', reviewState: null })).toBe('received');
    expect(reporterPhase(report('triaged'), { state: 'pr_opened', reviewState: null })).toBe('fix_proposed');
    expect(reporterPhase(report('triaged'), { state: 'pr_opened', reviewState: 'reopened' })).toBe('fix_proposed');
    expect(reporterPhase(report('triaged'), { state: 'pr_opened', reviewState: 'merged' })).toBe('fixed');
    expect(reporterPhase(report('triaged'), { state: 'pr_opened', reviewState: 'closed' })).toBe('not_planned');
    expect(reporterPhase(report('triaged'), { state: 'pr_failed', reviewState: null })).toBe('not_planned');
    expect(reporterPhase(report('rejected'), null)).toBe('not_planned');
    expect(reporterPhase(report('received', { kind: 'refused', reason: 'spam' }), null)).toBe('not_planned');
    expect(reporterPhase(report('received', { kind: 'pr_opened', url: 'https://x' }), null)).toBe('fix_proposed');
    expect(reporterPhase(report('errored'), { state: 'errored', reviewState: null })).toBe('received');
  });
});
