import event from '../../fixtures/forge/gitlab-merge-request-event.json' with { type: 'json' };
import { deliveryIdOf, parseMergeRequestEvent, verifyGitLabWebhook } from '../../../src/forge/gitlab/webhooks.js';

const SECRET = 'whsec-0123456789abcdef';

describe('verifyGitLabWebhook', () => {
  it('accepts the configured secret in X-Gitlab-Token, whatever the header case', () => {
    expect(() => verifyGitLabWebhook({ headers: { 'x-gitlab-token': SECRET }, secret: SECRET })).not.toThrow();
    expect(() => verifyGitLabWebhook({ headers: { 'X-Gitlab-Token': SECRET }, secret: SECRET })).not.toThrow();
  });

  it.each([
    ['a wrong token', { 'x-gitlab-token': 'whsec-0123456789abcdeF' }],
    ['a prefix of the secret', { 'x-gitlab-token': SECRET.slice(0, -1) }],
    ['a longer token', { 'x-gitlab-token': `${SECRET}x` }],
    ['an empty token', { 'x-gitlab-token': '' }],
    ['no token header', {}],
  ])('rejects %s with bad_signature (401)', (_label, headers) => {
    expect(() => verifyGitLabWebhook({ headers, secret: SECRET })).toThrow(expect.objectContaining({ code: 'bad_signature', status: 401 }));
  });

  it('refuses to verify anything when no secret is configured', () => {
    expect(() => verifyGitLabWebhook({ headers: { 'x-gitlab-token': '' }, secret: '' })).toThrow(expect.objectContaining({ code: 'webhook_secret_missing' }));
  });
});

describe('deliveryIdOf', () => {
  it('prefers Idempotency-Key, which stays the same across GitLab retries', () => {
    expect(deliveryIdOf({ 'idempotency-key': 'idem-1', 'x-gitlab-event-uuid': 'uuid-1' })).toBe('idem-1');
  });
  it('falls back to X-Gitlab-Event-UUID, then null', () => {
    expect(deliveryIdOf({ 'X-Gitlab-Event-UUID': 'uuid-1' })).toBe('uuid-1');
    expect(deliveryIdOf({})).toBeNull();
  });
});

describe('parseMergeRequestEvent', () => {
  const withAction = (action: string, attrs: Record<string, unknown> = {}) =>
    ({ ...event, object_attributes: { ...event.object_attributes, action, ...attrs } }) as unknown;

  it('reads merge, close and reopen of a run branch MR', () => {
    expect(parseMergeRequestEvent(event)).toEqual({
      runId: 'run_42',
      outcome: 'merged',
      number: 7,
      url: 'https://gitlab.example.com/acme/app/-/merge_requests/7',
    });
    expect(parseMergeRequestEvent(withAction('close'))).toMatchObject({ outcome: 'closed' });
    expect(parseMergeRequestEvent(withAction('reopen'))).toMatchObject({ outcome: 'reopened' });
  });

  it('ignores other actions and other branches', () => {
    expect(parseMergeRequestEvent(withAction('update'))).toBeNull();
    expect(parseMergeRequestEvent(withAction('merge', { source_branch: 'feature/x' }))).toBeNull();
  });

  it('ignores an MR from a fork whose branch borrows the run-branch name', () => {
    expect(parseMergeRequestEvent(withAction('merge', { source_project_id: 4242 }))).toBeNull();
  });

  it('ignores other event kinds', () => {
    expect(parseMergeRequestEvent({ ...event, object_kind: 'push' })).toBeNull();
    expect(parseMergeRequestEvent(null)).toBeNull();
  });
});
