import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { githubExample } from '../helpers/github.js';

// The server runs in a child process: a stray rejection or an uncaught exception would
// end it, which is what this test must be able to see (inside Jest, Jest catches them).
describe('nothing a handler does ends the server', () => {
  let child: ChildProcess;
  let url: string;
  let stderr = '';
  let stdout = '';
  beforeAll(async () => {
    const root = join(import.meta.dirname, '..', '..');
    child = spawn(process.execPath, ['--import', './scripts/register-ts.js', 'test/http/crash-server.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    url = line.toString().trim();
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  }, 60_000);
  afterAll(() => {
    child.kill('SIGKILL');
  });

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: await res.text() };
  };

  it.each(['/throw-sync', '/reject'])('answers a handler that fails (%s) with a JSON 500 without its text, and serves the next request', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'internal_error', message: 'Something went wrong on our side' } });
    expect(res.body).not.toMatch(/Error|iterable|properties/);
    expect(await get('/ok')).toEqual({ status: 200, body: '{"ok":true}' });
  });

  it("answers a GitHub handler that throws with a JSON 500 without the exception's text, and serves the next request", async () => {
    const body = JSON.stringify(githubExample('installation', 'created'));
    const res = await fetch(`${url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'installation',
        'x-github-delivery': randomUUID(),
        // signed with the child's CRASH_SERVER_WEBHOOK_SECRET
        'x-hub-signature-256': `sha256=${createHmac('sha256', 'crash-server-webhook-secret').update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: 'Something went wrong on our side' } });
    expect(text).not.toMatch(/Error|properties/);
    expect(await get('/ok')).toEqual({ status: 200, body: '{"ok":true}' });
  });

  it.each(['/stray-rejection', '/uncaught'])('keeps serving after %s, and logs it without its message', async (path) => {
    expect((await get(path)).status).toBe(200);
    // The failure happens after the answer; the process must still be there for the next one.
    await new Promise((r) => setImmediate(r));
    expect(await get('/ok')).toEqual({ status: 200, body: '{"ok":true}' });
    expect(child.exitCode).toBeNull();
  });

  /** Resolves once the child has written a log line with this message (the log is written after the answer). */
  const logged = (msg: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!stdout.includes(`"msg":"${msg}"`)) return;
        child.stdout!.off('data', check);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
    });

  it('logged each survived failure by name and count only', async () => {
    await Promise.all([logged('Unhandled promise rejection survived (a bug)'), logged('Uncaught exception survived (a bug)')]);
    expect(child.exitCode).toBeNull();
    // The child logs to stdout (pino); stderr would carry Node's own crash report.
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'Unhandled promise rejection survived (a bug)', errorName: 'Error', count: 1 }),
        expect.objectContaining({ msg: 'Uncaught exception survived (a bug)', errorName: 'RangeError', count: 1 }),
      ]),
    );
    expect(stdout + stderr).not.toMatch(/nobody awaits this|Maximum call stack/);
  });
});
