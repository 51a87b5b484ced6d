import { issueApiKey } from '../../src/security/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';

/**
 * Review probes (issue 19): every keyset list refuses a cursor or limit it did not give out
 * with 400 invalid_payload, never a database error (500). A cursor is client text: valid
 * base64url JSON with a time Postgres cannot hold, or an id that is not the list's id type,
 * must not reach the query unchecked.
 */
const cursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const BAD_QUERIES: Array<[string, string]> = [
  ['limit=0', 'limit'],
  ['limit=101', 'limit'],
  ['limit=abc', 'limit'],
  ['limit=1.5', 'limit'],
  ['limit=-1', 'limit'],
  ['cursor=%%%', 'cursor'],
  [`cursor=${cursor(['not a time', 'x'])}`, 'cursor'],
  [`cursor=${cursor([42, 42])}`, 'cursor'],
  [`cursor=${cursor({ at: 1 })}`, 'cursor'],
  // Times JavaScript accepts and Postgres' timestamptz cannot hold (before 4713 BC).
  [`cursor=${cursor(['-271821-04-20T00:00:00.000Z', 'x'])}`, 'cursor'],
  [`cursor=${cursor(['-010000-01-01T00:00:00.000Z', '1'])}`, 'cursor'],
];

/** The audit log's ids are bigints: 19 digits can still be past the largest (9223372036854775807). */
const PAST_BIGINT = '9999999999999999999';

/** Well-formed cursors naming no row: a page (200) or a 400, never a database error. */
const STRANGE_IDS = [
  cursor([new Date().toISOString(), 'abc']),
  cursor([new Date().toISOString(), '99999999999999999999999']),
  cursor(['1970-01-01T00:00:00.000Z', '']),
];

describe.each(DB_KINDS)('API list cursors and limits (review probes, %s)', (kind) => {
  let app: TestApp;
  let key: string;
  let endpointId: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    key = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test' })).key;
    const created = await fetch(`${app.url}/api/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.com/userz', events: ['pr.merged'] }),
    });
    expect(created.status).toBe(201);
    endpointId = ((await created.json()) as { id: string }).id;
  });
  afterAll(async () => app.close());

  const LISTS = () => [
    '/api/v1/reports',
    '/api/v1/runs',
    '/api/v1/batches',
    '/api/v1/apps',
    '/api/v1/repos',
    '/api/v1/audit-events',
    '/api/v1/api-keys',
    '/api/v1/webhook-endpoints',
    `/api/v1/webhook-endpoints/${endpointId}/deliveries`,
  ];

  it('answers 400 invalid_payload naming the parameter, on every list, for every bad limit and forged cursor', async () => {
    const answers: Array<[string, number, string]> = [];
    for (const path of LISTS()) {
      for (const [query, word] of BAD_QUERIES) {
        const res = await fetch(`${app.url}${path}?${query}`, { headers: { authorization: `Bearer ${key}` } });
        const body = (await res.json()) as { error?: { code: string; message: string } };
        answers.push([`${path}?${query}`, res.status, body.error?.message.includes(word) ? body.error.code : `${body.error?.code}: ${body.error?.message}`]);
      }
    }
    expect(answers.filter(([, status, code]) => status !== 400 || code !== 'invalid_payload')).toEqual([]);
  });

  it('answers a well-formed cursor that names no row with a page or a 400, never a 500', async () => {
    const answers: Array<[string, number]> = [];
    for (const path of LISTS()) {
      for (const c of STRANGE_IDS) {
        const res = await fetch(`${app.url}${path}?cursor=${c}`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        answers.push([`${path}?cursor=${c}`, res.status]);
      }
    }
    expect(answers.filter(([, status]) => status !== 200 && status !== 400)).toEqual([]);
  });

  it('treats an audit id past the bigint range as no event: 400 for the cursor, 404 for the read', async () => {
    const list = await fetch(`${app.url}/api/v1/audit-events?cursor=${cursor([new Date().toISOString(), PAST_BIGINT])}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect([list.status, ((await list.json()) as { error?: { code: string } }).error?.code]).toEqual([400, 'invalid_payload']);
    const one = await fetch(`${app.url}/api/v1/audit-events/${PAST_BIGINT}`, { headers: { authorization: `Bearer ${key}` } });
    expect([one.status, ((await one.json()) as { error?: { code: string } }).error?.code]).toEqual([404, 'audit_event_not_found']);
  });

  it('refuses a NUL character in any filter with 400 invalid_payload (Postgres refuses it in text)', async () => {
    const answers: Array<[string, number]> = [];
    for (const q of [
      'audit-events?actor=%00',
      'audit-events?subject=a%00',
      'audit-events?action=%00',
      'reports?app=%00',
      'runs?app=%00',
      'batches?app=%00',
      'reports?q=%00',
    ]) {
      const res = await fetch(`${app.url}/api/v1/${q}`, { headers: { authorization: `Bearer ${key}` } });
      answers.push([q, res.status]);
      await res.arrayBuffer();
    }
    expect(answers.filter(([, status]) => status !== 400)).toEqual([]);
  });

  it('still pages with the cursors it gives out', async () => {
    for (const path of LISTS()) {
      const res = await fetch(`${app.url}${path}?limit=1`, { headers: { authorization: `Bearer ${key}` } });
      expect([path, res.status]).toEqual([path, 200]);
    }
  });
});
