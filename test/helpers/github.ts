import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import nock from 'nock';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

/** A real GitHub webhook payload from @octokit/webhooks-examples (deep copy). */
export function githubExample(event: string, action?: string, index = 0): Record<string, any> {
  const group = examples.find((e) => e.name === event);
  if (!group) throw new Error(`no example for ${event}`);
  const matching = group.examples.filter((x) => action === undefined || x.action === action);
  if (!matching[index]) throw new Error(`no example for ${event}.${action} #${index}`);
  return structuredClone(matching[index]) as Record<string, any>;
}

/** POSTs a webhook signed the way GitHub signs it (X-Hub-Signature-256 over the raw body). */
export async function sendGitHubWebhook(url: string, event: string, payload: unknown, opts: { secret: string; deliveryId: string }): Promise<Response> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', opts.secret).update(body).digest('hex')}`;
  return fetch(`${url}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': opts.deliveryId,
      'x-hub-signature-256': signature,
    },
    body,
  });
}

/**
 * What a follow-up's permission check asks GitHub (nock, strict): a run-scoped token for
 * installation 99 minted for the one repository, the commenter's permission, then the
 * token's revocation.
 */
export function expectCollaboratorPermission(
  opts: { api: string; token: string; repoId: number; repo: string },
  login: string,
  id: number,
  answer: { permission: string; role_name: string },
): void {
  const permissions = { contents: 'write', pull_requests: 'write', metadata: 'read' };
  nock(opts.api)
    .post('/app/installations/99/access_tokens', { repository_ids: [opts.repoId], permissions })
    .reply(201, { token: opts.token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions, repositories: [{ id: opts.repoId }] });
  nock(opts.api, { reqheaders: { authorization: `token ${opts.token}` } })
    .get(`/repos/${opts.repo}/collaborators/${login}/permission`)
    .reply(200, { ...answer, user: { login, id } })
    .delete('/installation/token')
    .reply(204);
}
