// A child process for process-guard.test.ts: the real HTTP server with routes that fail
// in every way a handler can (sync throw, rejection, a stray rejection, an uncaught
// exception on a later tick). Prints its URL, then serves until killed.
import { Probot } from 'probot';
import { registerGitHubWebhookRoute } from '../../src/forge/index.js';
import { Router, sendJson, startHttpServer } from '../../src/http/index.js';
import { createLogger } from '../../src/log/index.js';

const log = createLogger({ level: 'error' });
const CRASH_SERVER_WEBHOOK_SECRET = 'crash-server-webhook-secret';
const probot = new Probot({ githubToken: 'unused', secret: CRASH_SERVER_WEBHOOK_SECRET, log: log.child({ name: 'probot' }) });
const server = await startHttpServer({
  probot,
  log,
  port: 0,
  host: '127.0.0.1',
  appFn: (app, { addHandler }) => {
    const router = new Router(log);
    // A GitHub handler that fails the way a payload-trusting handler did ("repos is not iterable").
    app.on('installation', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    registerGitHubWebhookRoute(router, { probot: app, log });
    router.add('GET', '/ok', (_req, res) => sendJson(res, 200, { ok: true }));
    router.add('GET', '/throw-sync', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    router.add('GET', '/reject', async () => {
      await Promise.resolve();
      throw new Error('repos is not iterable');
    });
    router.add('GET', '/stray-rejection', (_req, res) => {
      void Promise.reject(new Error('nobody awaits this'));
      sendJson(res, 200, { ok: true });
    });
    router.add('GET', '/uncaught', (_req, res) => {
      setImmediate(() => {
        throw new RangeError('Maximum call stack size exceeded');
      });
      sendJson(res, 200, { ok: true });
    });
    addHandler(router.handle);
  },
});
process.stdout.write(`${server.url}\n`);
