import type { IncomingMessage } from 'node:http';
import { bearerToken, clientIp, sendJson, type Router } from '../http/index.js';
import type { ApiKeyVerifier } from '../security/index.js';
import type { Db } from '../store/index.js';
import { registerApiKeyRoutes } from './keys.js';
import { registerListRoutes } from './lists.js';
import { openApiDocument } from './openapi.js';
import { ApiRoutes } from './route.js';

export { ApiRoutes, type OtherResponse } from './route.js';
export { openApiDocument } from './openapi.js';
export { pageOf, pageQuery, RepoView, repoView, RunView, runView } from './schemas.js';

/** The `/api/v1` routes of one process, checked by its one `sk_` verifier. */
export function createApiRoutes(router: Router, apiKeys: ApiKeyVerifier, trustProxy: boolean): ApiRoutes {
  return new ApiRoutes(router, (req: IncomingMessage) => apiKeys.verify(bearerToken(req), clientIp(req, trustProxy)));
}

/**
 * The API's own routes (keys, lists, single reads) and `GET /api/v1/openapi.json`, the
 * document of every route declared on `api` by any module, built when it is asked for.
 * The document is public: it describes the API, not an org's data.
 */
export function registerApiRoutes(router: Router, api: ApiRoutes, deps: { db: Db; apiKeys: ApiKeyVerifier }): void {
  registerApiKeyRoutes(api, deps);
  registerListRoutes(api, deps);
  router.add('GET', '/api/v1/openapi.json', (_req, res) => {
    sendJson(res, 200, openApiDocument(api, { version: '1.0.0' }), { 'cache-control': 'no-cache' });
  });
}
