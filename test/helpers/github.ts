import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';

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
