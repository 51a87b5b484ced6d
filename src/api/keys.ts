import { z } from 'zod';
import { UserzError } from '../errors.js';
import { issueApiKey, type ApiKeyVerifier } from '../security/index.js';
import { getApiKey, listApiKeys, type Db } from '../store/index.js';
import { mayGrant, SCOPES } from '../tenant/index.js';
import type { ApiRoutes } from './route.js';
import { ApiKeyView, apiKeyView, pageOf, pageQuery, ScopeList } from './schemas.js';

const CreateApiKeyBody = z
  .object({
    label: z.string().trim().min(1).max(100).describe('Says what the key is for'),
    scopes: ScopeList.describe('read: every GET; write: plus decisions on held reports and App/repository edits; admin: plus keys, settings and deletion'),
  })
  .strict();

const notFound = () => new UserzError('api_key_not_found', 'No such API key');

/**
 * The org's `sk_` keys, managed with an `admin` key: a new key is shown once and may carry
 * only scopes its creator holds; a revoked key is refused on its very next request, on
 * every replica (the verifier re-reads the key's row on every request, cached or not).
 */
export function registerApiKeyRoutes(api: ApiRoutes, deps: { db: Db; apiKeys: ApiKeyVerifier }): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/api-keys',
      operationId: 'createApiKey',
      tag: 'API keys',
      summary: 'Create a key; the key itself is in this answer only',
      permission: 'admin',
      body: { schema: CreateApiKeyBody },
      responses: { 201: z.object({ key: z.string().describe('The full sk_ key. Shown once, never again'), apiKey: ApiKeyView }) },
    })
    .handle(async ({ principal, body }) => {
      if (!mayGrant(principal, body.scopes)) {
        throw new UserzError('insufficient_scope', `A key cannot grant scopes its creator does not hold (${principal.scopes?.join(', ') ?? 'none'})`);
      }
      const issued = await issueApiKey(deps.db, principal.orgId, {
        label: body.label,
        scopes: SCOPES.filter((s) => body.scopes.includes(s)),
        actor: principal.actor,
      });
      return { status: 201, body: { key: issued.key, apiKey: apiKeyView(issued.summary) }, headers: { 'cache-control': 'no-store' } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/api-keys',
      operationId: 'listApiKeys',
      tag: 'API keys',
      summary: "The org's keys, revoked ones included, newest first",
      // Every GET is `read` (the issue's read-only key); a key's listing never holds a secret.
      permission: 'read',
      query: z.object(pageQuery),
      responses: { 200: pageOf(ApiKeyView) },
    })
    .handle(async ({ principal, query }) => {
      const page = await listApiKeys(deps.db, principal.orgId, query);
      return { status: 200, body: { items: page.items.map(apiKeyView), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/api-keys/:id',
      operationId: 'getApiKey',
      tag: 'API keys',
      summary: 'One key (never its secret)',
      permission: 'read',
      responses: { 200: ApiKeyView },
      errors: ['api_key_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const key = await getApiKey(deps.db, principal.orgId, params.id!);
      if (!key) throw notFound();
      return { status: 200, body: apiKeyView(key) };
    });

  api
    .add({
      method: 'DELETE',
      path: '/api/v1/api-keys/:id',
      operationId: 'revokeApiKey',
      tag: 'API keys',
      summary: 'Revoke a key: refused from its next request on',
      description: 'Revoking a revoked key answers it again, unchanged.',
      permission: 'admin',
      responses: { 200: ApiKeyView },
      errors: ['api_key_not_found'],
    })
    .handle(async ({ principal, params }) => {
      if (!(await getApiKey(deps.db, principal.orgId, params.id!))) throw notFound();
      await deps.apiKeys.revoke(principal.orgId, params.id!, principal.actor);
      const key = await getApiKey(deps.db, principal.orgId, params.id!);
      if (!key) throw notFound();
      return { status: 200, body: apiKeyView(key) };
    });
}
