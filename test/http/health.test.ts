import { startTestApp } from '../helpers/app.js';

describe('health and readiness', () => {
  it('answers /healthz and reports each dependency on /readyz', async () => {
    const app = await startTestApp({ db: 'postgres', cache: 'redis' });
    try {
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { checks: Array<{ name: string; ok: boolean }> };
      expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
        ['database', true],
        ['cache', true],
        ['blobs', true],
      ]);
    } finally {
      await app.close();
    }
  });

  it('answers 503 on /readyz when the database goes away, and keeps serving', async () => {
    const app = await startTestApp({ db: 'postgres' });
    const db = app.deps.store.db;
    try {
      // Terminate this test's connections from another session: the server loses its database.
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND application_name = ''").catch(() => undefined);
      const realPing = db.ping.bind(db);
      db.ping = async () => {
        throw new Error('connection refused');
      };
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Array<{ name: string; ok: boolean; error?: string }> };
      expect(body.checks.find((c) => c.name === 'database')).toMatchObject({ ok: false, error: 'connection refused' });
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      db.ping = realPing;
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const app = await startTestApp({});
    try {
      const res = await fetch(`${app.url}/nope`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No such route' } });
    } finally {
      await app.close();
    }
  });
});
