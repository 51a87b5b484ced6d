import { issueApiKey } from '../../src/security/index.js';
import { keyPrincipal, mayGrant } from '../../src/tenant/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';

/** Every operation of the document, with a path whose ids name nothing. */
function operations(doc: Record<string, any>): Array<{ method: string; path: string; scope: string }> {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, 'missing_id'),
      scope: op['x-required-scope'] as string,
    })),
  );
}

describe.each(DB_KINDS)('sk_ key scopes (%s)', (db) => {
  let app: TestApp;
  let client: ApiClient;
  let admin: string;
  let keys: Record<'read' | 'write' | 'admin', string>;
  let ops: ReturnType<typeof operations>;
  beforeAll(async () => {
    app = await startTestApp({ db });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    admin = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test' })).key;
    client = await apiClient(app.url);
    ops = operations(client.checker.doc);
    const mint = async (scopes: string[]) => {
      const res = await client.call('POST', '/api/v1/api-keys', { key: admin, body: { label: scopes.join('+'), scopes } });
      expect(res.status).toBe(201);
      expect(res.json.apiKey.scopes).toEqual(scopes);
      return res.json.key as string;
    };
    keys = { read: await mint(['read']), write: await mint(['read', 'write']), admin: await mint(['admin']) };
  });
  afterAll(async () => app.close());

  // A mutation's body is not looked at before the scope: `{}` is enough to be refused.
  const callAs = (key: string, op: { method: string; path: string }) =>
    client.call(op.method, op.path, { key, body: op.method === 'GET' || op.method === 'DELETE' ? undefined : {} });

  it('a read key may call every GET, and every other route answers 403 insufficient_scope naming the scope', async () => {
    expect(ops.length).toBeGreaterThan(10);
    for (const op of ops) {
      const res = await callAs(keys.read, op);
      if (op.method === 'GET') {
        expect({ op, readable: [200, 404].includes(res.status), status: res.status }).toEqual({ op, readable: true, status: res.status });
      } else {
        expect([op, res.status, res.json.error.code]).toEqual([op, 403, 'insufficient_scope']);
        expect(res.json.error.message).toContain(`the \`${op.scope}\` scope`);
      }
    }
  });

  it('a write key may decide and edit, and is refused what needs admin', async () => {
    for (const op of ops) {
      const res = await callAs(keys.write, op);
      if (op.scope === 'admin') expect([op, res.status, res.json.error.message]).toEqual([op, 403, expect.stringContaining('the `admin` scope')]);
      else expect({ op, allowed: ![401, 403].includes(res.status), status: res.status }).toEqual({ op, allowed: true, status: res.status });
    }
  });

  it('an admin key is refused nothing', async () => {
    for (const op of ops) {
      const res = await callAs(keys.admin, op);
      expect({ op, allowed: ![401, 403].includes(res.status), status: res.status }).toEqual({ op, allowed: true, status: res.status });
    }
  });

  it('a key cannot mint a key with more scopes than it holds', async () => {
    const res = await client.call('POST', '/api/v1/api-keys', { key: keys.write, body: { label: 'escalate', scopes: ['admin'] } });
    expect([res.status, res.json.error.code]).toEqual([403, 'insufficient_scope']);
    const readOnly = await client.call('POST', '/api/v1/api-keys', { key: keys.read, body: { label: 'copy', scopes: ['read'] } });
    expect([readOnly.status, readOnly.json.error.code]).toEqual([403, 'insufficient_scope']);
    // The rule itself, for any principal: a write key could grant read or write, never admin.
    const write = keyPrincipal({ id: 'k', orgId: 'o', scopes: ['write'] });
    expect([mayGrant(write, ['read']), mayGrant(write, ['write']), mayGrant(write, ['admin']), mayGrant(write, ['read', 'admin'])]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('refuses an unknown scope, an empty list and a missing label', async () => {
    for (const body of [{ label: 'x', scopes: ['root'] }, { label: 'x', scopes: [] }, { scopes: ['read'] }, { label: 'x', scopes: ['read'], extra: true }]) {
      const res = await client.call('POST', '/api/v1/api-keys', { key: admin, body });
      expect([res.status, res.json.error.code]).toEqual([400, 'invalid_payload']);
    }
  });

  it('shows a new key once: the list and the single read carry its prefix and scopes, never the secret', async () => {
    const created = await client.call('POST', '/api/v1/api-keys', { key: admin, body: { label: 'CI reader', scopes: ['read'] } });
    expect(created.headers.get('cache-control')).toBe('no-store');
    const secret = created.json.key as string;
    expect(secret).toMatch(/^sk_/);
    const one = await client.call('GET', `/api/v1/api-keys/${created.json.apiKey.id}`, { key: admin });
    expect(one.json).toMatchObject({ label: 'CI reader', scopes: ['read'], prefix: created.json.apiKey.prefix, revokedAt: null });
    const list = await client.call('GET', '/api/v1/api-keys?limit=100', { key: admin });
    expect(list.json.items.map((k: { id: string }) => k.id)).toContain(created.json.apiKey.id);
    expect(one.text + list.text).not.toContain(secret.slice(20));
  });

  it('a revoked key is refused on its very next request, also when this process had it cached', async () => {
    const created = await client.call('POST', '/api/v1/api-keys', { key: admin, body: { label: 'short-lived', scopes: ['read'] } });
    const doomed = created.json.key as string;
    expect((await client.call('GET', '/api/v1/runs', { key: doomed })).status).toBe(200); // now in the verifier's success cache
    const revoked = await client.call('DELETE', `/api/v1/api-keys/${created.json.apiKey.id}`, { key: admin });
    expect([revoked.status, revoked.json.revokedAt]).toEqual([200, expect.any(String)]);
    const after = await client.call('GET', '/api/v1/runs', { key: doomed });
    expect([after.status, after.json.error.code]).toEqual([401, 'invalid_api_key']);

    // Revoked by another replica (straight in the database): refused here at once too.
    const other = await client.call('POST', '/api/v1/api-keys', { key: admin, body: { label: 'elsewhere', scopes: ['read'] } });
    expect((await client.call('GET', '/api/v1/runs', { key: other.json.key })).status).toBe(200);
    await app.deps.store.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [other.json.apiKey.id]);
    expect((await client.call('GET', '/api/v1/runs', { key: other.json.key })).status).toBe(401);

    // Revoking again answers the revoked key unchanged.
    const again = await client.call('DELETE', `/api/v1/api-keys/${created.json.apiKey.id}`, { key: admin });
    expect([again.status, again.json.revokedAt]).toEqual([200, revoked.json.revokedAt]);
  });
});
