import { randomUUID } from 'node:crypto';
import { openPostgres } from '../../src/store/index.js';
import { captureLog, startTestApp } from '../helpers/app.js';
import { sendGitHubWebhook, githubExample } from '../helpers/github.js';

const SECRET = `sk_${'S3cr3tPrefix'}_${'Z'.repeat(43)}abcdef`;

describe('logs never carry secrets', () => {
  it('redacts secrets from objects that reach a log by accident', () => {
    const { log, text } = captureLog();
    log.error(
      {
        req: { headers: { authorization: `Bearer ${SECRET}`, 'x-userz-key': SECRET, 'x-gitlab-token': SECRET, cookie: SECRET } },
        token: SECRET,
        apiKey: SECRET,
        nested: { privateKey: SECRET, botToken: SECRET, secret: SECRET },
        text: 'a report body that must not be logged',
      },
      'Something failed',
    );
    expect(text()).toContain('Something failed');
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain('a report body');
  });

  it('keeps secrets sent to failing endpoints out of the server log', async () => {
    const app = await startTestApp({ github: true, adminToken: 'the-real-admin-token' });
    try {
      const hit = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, init);
      expect((await hit('/api/admin/ops/init', { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: '{}' })).status).toBe(401);
      expect((await hit(`/no/such/route?code=${SECRET}&token=${SECRET}`, { headers: { 'x-userz-key': SECRET, 'x-gitlab-token': SECRET } })).status).toBe(404);
      expect(
        (await hit('/api/admin/ops/init', { method: 'POST', headers: { authorization: 'Bearer the-real-admin-token' }, body: `{"name": "${SECRET}` })).status,
      ).toBe(400);
      const bad = await sendGitHubWebhook(
        app.url,
        'installation',
        { ...githubExample('installation', 'created'), leaked: SECRET },
        { secret: SECRET, deliveryId: randomUUID() },
      );
      // A wrong signature is bad_signature, 401 on every signed route (src/http/status.ts).
      expect(bad.status).toBe(401);
      const log = app.logText();
      expect(log.length).toBeGreaterThan(0);
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain('the-real-admin-token');
    } finally {
      await app.close();
    }
  });

  it('does not put database passwords in connection errors', async () => {
    const err = await openPostgres({ url: 'postgres://userz:hunter2-password@127.0.0.1:1/userz' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Cannot connect to Postgres at postgres:\/\/127\.0\.0\.1:1\/userz/);
    expect((err as Error).message).not.toContain('hunter2');
  });
});
