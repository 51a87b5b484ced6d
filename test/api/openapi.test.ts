import { issueApiKey } from '../../src/security/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { apiClient, openApiDocumentErrors, type ApiClient } from '../helpers/openapi.js';

describe('the OpenAPI document', () => {
  let app: TestApp;
  let doc: Record<string, any>;
  let client: ApiClient;
  let key: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    key = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test', scopes: ['read'] })).key;
    const res = await fetch(`${app.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Record<string, any>;
    client = await apiClient(app.url, doc);
  });
  afterAll(async () => app.close());

  it('is a valid OpenAPI 3.1 document, served without a key', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(await openApiDocumentErrors(doc)).toEqual([]);
    // The validator does refuse a broken document.
    expect(await openApiDocumentErrors({ ...doc, paths: { '/x': { get: { responses: 'none' } } } })).not.toEqual([]);
  });

  it('describes every route of the API, each with a unique operation id, its scope and the shared errors', () => {
    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    );
    const routes = ops.map((o) => o.route);
    for (const route of [
      'POST /api/v1/api-keys',
      'GET /api/v1/api-keys',
      'GET /api/v1/api-keys/{id}',
      'DELETE /api/v1/api-keys/{id}',
      'GET /api/v1/runs',
      'GET /api/v1/batches',
      'GET /api/v1/batches/{id}',
      'GET /api/v1/repos',
      'GET /api/v1/repos/{id}',
      'GET /api/v1/apps',
      'POST /api/v1/apps',
      'GET /api/v1/apps/{id}',
      'PATCH /api/v1/apps/{id}',
      'GET /api/v1/reports',
      'GET /api/v1/reports/{id}',
      'POST /api/v1/reports/{id}/approve',
      'POST /api/v1/reports/{id}/reject',
      'GET /api/v1/runs/{id}',
      'GET /api/v1/audit-events',
      'GET /api/v1/audit-events/{id}',
      'PUT /api/v1/retention',
      'POST /api/v1/github/install-links',
      'POST /api/v1/data/delete',
      'GET /api/v1/usage',
    ]) {
      expect(routes).toContain(route);
    }
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { route, op } of ops) {
      expect([route, op['x-required-scope']]).toEqual([route, expect.stringMatching(/^(read|write|admin)$/)]);
      expect(op.responses['401'].content['application/json'].schema.properties.error.properties.code.enum).toContain('invalid_api_key');
      if (op['x-required-scope'] !== 'read')
        expect(op.responses['403'].content['application/json'].schema.properties.error.properties.code.enum).toContain('insufficient_scope');
    }
    // Every listed code is in the shared Error schema.
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['invalid_api_key', 'insufficient_scope', 'invalid_payload']),
    );
  });

  it('documents list parameters from the schemas that parse them', () => {
    const params = doc.paths['/api/v1/runs'].get.parameters as Array<{ name: string; in: string; schema: Record<string, unknown> }>;
    expect(params.map((p) => p.name).sort()).toEqual(['app', 'cursor', 'limit', 'since', 'state']);
    expect(params.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(params.find((p) => p.name === 'state')!.schema.enum).toContain('needs_review');
  });

  it('checks calls against itself: a documented answer passes, an undocumented field or status fails', async () => {
    const ok = await client.call('GET', '/api/v1/runs?limit=5', { key });
    expect(ok.status).toBe(200);
    expect(() =>
      client.checker.check('GET', new URL('/api/v1/runs', app.url), undefined, {
        status: 200,
        json: { items: [], nextCursor: null, extra: 1 },
        contentType: 'application/json',
      }),
    ).toThrow(/response body/);
    expect(() => client.checker.check('GET', new URL('/api/v1/runs', app.url), undefined, { status: 418, json: {}, contentType: 'application/json' })).toThrow(
      /not documented/,
    );
    expect(() =>
      client.checker.check('GET', new URL('/api/v1/runs?colour=red', app.url), undefined, {
        status: 200,
        json: { items: [], nextCursor: null },
        contentType: 'application/json',
      }),
    ).toThrow(/colour is not documented/);
    expect(() =>
      client.checker.check('GET', new URL('/api/v1/runs', app.url), undefined, {
        status: 401,
        json: { error: { code: 'not_a_listed_code', message: 'x' } },
        contentType: 'application/json',
      }),
    ).toThrow(/response body/);
  });
});
