import { formatApiKey } from '../../src/security/index.js';
import { randomBase62 } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

// Opening a database and server, and real scrypt hashes, can be slow on a loaded shared machine; no test asserts time.
const SETUP_TIMEOUT_MS = 120_000;

const forgedKey = () => formatApiKey(randomBase62(12), randomBase62(43));
const budget = 3;
// Fixed windows start at multiples of their length: one of ten years never rolls over mid-test.
const apiKeyLimits = { failuresPerAddress: { name: 'api_key:failures:address', limit: budget, windowMs: 10 * 365 * 24 * 3600_000 } };

describe('App API under a forged sk_ key flood', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness({ deps: { apiKeyLimits } });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => h.close());

  const getApps = (key: string) => send(`${h.url}/api/v1/apps/app_none`, { method: 'GET', headers: { authorization: `Bearer ${key}` } });

  it(
    'answers 429 rate_limited with Retry-After once one address has spent its failure budget, and keeps serving a proven key',
    async () => {
      expect((await getApps(h.apiKey)).status).toBe(404);
      for (let i = 0; i < budget; i++) {
        const res = await getApps(forgedKey());
        expect([res.status, res.json.error.code]).toEqual([401, 'invalid_api_key']);
      }
      for (let i = 0; i < 5; i++) {
        const res = await getApps(forgedKey());
        expect(res.status).toBe(429);
        expect(res.json.error.code).toBe('rate_limited');
        expect(typeof res.json.error.message).toBe('string');
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      // The real key, proven before the flood, still works from the same address.
      expect((await getApps(h.apiKey)).json.error.code).toBe('app_not_found');
    },
    SETUP_TIMEOUT_MS,
  );
});

describe('review API under a forged sk_ key flood', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', intake: { apiKeyLimits } });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => app.close());

  it(
    'answers 429 rate_limited with Retry-After past the failure budget',
    async () => {
      const getRun = () => fetch(`${app.url}/api/v1/runs/run_none`, { headers: { authorization: `Bearer ${forgedKey()}` } });
      for (let i = 0; i < budget; i++) expect((await getRun()).status).toBe(401);
      const limited = await getRun();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    },
    SETUP_TIMEOUT_MS,
  );
});
