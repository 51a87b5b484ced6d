import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { bearerToken, parseJson, readBody, requireContentType, sendJson, type Router } from '../http/index.js';
import type { VerifiedApiKey } from '../security/index.js';
import { pageLimit } from '../store/index.js';
import { keyPrincipal, type Principal } from '../tenant/index.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  type WebhookEndpointDeps,
} from './endpoints.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';

export interface WebhookRouteDeps extends WebhookEndpointDeps {
  /** The process's one `sk_` verifier, given the presented key and the request (for its client address). */
  verifyKey: (presented: string | undefined, req: IncomingMessage) => Promise<VerifiedApiKey>;
}

const CreateWebhookEndpointBody = z
  .object({
    url: z.string().min(1).max(2048),
    events: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length * 2),
  })
  .strict();

const BODY_LIMIT = 16 * 1024;

/**
 * Outgoing webhook endpoints, with an `sk_` key of the org (writes need `admin`, reads `read`):
 *   POST   /api/v1/webhook-endpoints                {url, events} → the endpoint and its `whsec_` secret, shown once
 *   GET    /api/v1/webhook-endpoints                → {items, nextCursor}
 *   GET    /api/v1/webhook-endpoints/:id
 *   DELETE /api/v1/webhook-endpoints/:id            → 204
 *   GET    /api/v1/webhook-endpoints/:id/deliveries → the delivery log, one item per attempt
 */
export function registerWebhookRoutes(router: Router, deps: WebhookRouteDeps): void {
  const principalOf = async (req: IncomingMessage): Promise<Principal> => {
    const key = await deps.verifyKey(bearerToken(req), req);
    return keyPrincipal(key);
  };
  const pageOf = (url: URL) => ({ cursor: url.searchParams.get('cursor'), limit: pageLimit(url.searchParams.get('limit')) });

  router.add('POST', '/api/v1/webhook-endpoints', async (req, res) => {
    const principal = await principalOf(req);
    requireContentType(req, 'application/json');
    const parsed = CreateWebhookEndpointBody.safeParse(parseJson(await readBody(req, BODY_LIMIT)));
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new UserzError('invalid_input', `Invalid body: ${first.path.join('.') || 'body'} ${first.message}`);
    }
    const { endpoint, secret } = await createWebhookEndpoint(deps, principal, parsed.data);
    sendJson(res, 201, { ...endpoint, secret });
  });

  router.add('GET', '/api/v1/webhook-endpoints', async (req, res, { url }) => {
    sendJson(res, 200, await listWebhookEndpoints(deps, await principalOf(req), pageOf(url)));
  });

  router.add('GET', '/api/v1/webhook-endpoints/:id', async (req, res, { params }) => {
    sendJson(res, 200, await getWebhookEndpoint(deps, await principalOf(req), params.id!));
  });

  router.add('DELETE', '/api/v1/webhook-endpoints/:id', async (req, res, { params }) => {
    await deleteWebhookEndpoint(deps, await principalOf(req), params.id!);
    res.writeHead(204).end();
  });

  router.add('GET', '/api/v1/webhook-endpoints/:id/deliveries', async (req, res, { params, url }) => {
    sendJson(res, 200, await listDeliveries(deps, await principalOf(req), params.id!, pageOf(url)));
  });
}
