import { createRequire } from 'node:module';
import { checkGitHubPayload, HANDLED_GITHUB_EVENTS } from '../../../src/forge/github/webhook-payloads.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const examplesOf = (event: string) => examples.find((e) => e.name === event)!.examples;

describe('GitHub payload schemas', () => {
  it.each(Object.keys(HANDLED_GITHUB_EVENTS))('accepts every real App delivery of %s from @octokit/webhooks-examples', (event) => {
    const appDeliveries = examplesOf(event).filter((p) => (p.installation as { id?: unknown } | undefined)?.id !== undefined);
    expect(appDeliveries.length).toBeGreaterThan(0);
    for (const payload of appDeliveries) {
      const checked = checkGitHubPayload(event, payload);
      expect({ action: payload.action, kind: checked.kind }).toEqual({ action: payload.action, kind: 'valid' });
    }
  });

  it('keeps the fields GitHub sends that the schema does not name', () => {
    const payload = examplesOf('installation')[0]!;
    const checked = checkGitHubPayload('installation', payload);
    expect(checked.kind === 'valid' && checked.payload).toEqual(payload);
  });

  it('refuses a pull_request without the installation every App delivery names', () => {
    const repoHook = examplesOf('pull_request').find((p) => !p.installation)!;
    expect(checkGitHubPayload('pull_request', repoHook).kind).toBe('invalid');
  });

  it('ignores events Userz does not handle, including names of Object.prototype', () => {
    for (const event of ['ping', 'issues', 'push', 'constructor', '__proto__', 'toString']) expect(checkGitHubPayload(event, {}).kind).toBe('ignored');
  });

  it('refuses ids that are not positive safe integers', () => {
    const base = examplesOf('installation')[0]!;
    for (const id of [0, -1, 1.5, 2 ** 53, Infinity, '1', null]) {
      expect(checkGitHubPayload('installation', { ...base, installation: { id } }).kind).toBe('invalid');
    }
  });
});
