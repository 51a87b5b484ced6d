import { issueApiKey } from '../../src/security/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';

/**
 * Review probe (issue 19): a path id is client text. Every operation of the OpenAPI
 * document, called by an admin key with ids no table holds (past bigint, a NUL byte, very
 * long, quotes), answers a 4xx with the error shape, never a 500 from the database.
 */
const STRANGE_IDS = ['9999999999999999999', '-1', '%00', 'x'.repeat(3000), "'%20OR%201=1--", '..%2F..%2Fetc', '1e999', 'NaN'];

describe.each(DB_KINDS)('path ids no table holds (review probe, %s)', (kind) => {
  let app: TestApp;
  let key: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    key = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test' })).key;
  });
  afterAll(async () => app.close());

  it('answers every operation with a 4xx error, never a 500', async () => {
    const doc = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const bad: Array<[string, string, number, string]> = [];
    let calls = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.includes('{')) continue;
      for (const method of Object.keys(methods)) {
        for (const id of STRANGE_IDS) {
          const res = await fetch(`${app.url}${path.replace(/\{[^}]+\}/g, id)}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: method === 'get' || method === 'delete' ? undefined : '{}',
            redirect: 'manual',
          });
          const text = await res.text();
          calls++;
          if (res.status >= 500 || (res.status < 400 && res.status !== 200)) bad.push([method, path, res.status, `${id.slice(0, 30)} ${text.slice(0, 120)}`]);
        }
      }
    }
    expect(calls).toBeGreaterThan(50);
    expect(bad).toEqual([]);
  });
});
