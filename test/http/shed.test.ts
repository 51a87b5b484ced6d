// Load shedding fills its bound deterministically: requests are held open by a gate the
// test opens, so "in flight" is a fact, not a timing.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { startHttpServer, type RunningServer } from '../../src/http/index.js';
import { classifyRequest, DEFAULT_SHED, LoadShedder, shedLoad, type ShedOptions } from '../../src/http/shed.js';
import { generateKeyringEntry } from '../../src/security/index.js';
import { createProbot } from '../../src/main.js';
import { send, type Answer } from '../intake/http-client.js';

/** Every route answers 200 once the gate opens; `arrived(n)` resolves when n requests are being served. */
function gatedHandler() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let served = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    served++;
    for (const w of waiters.filter((w) => served >= w.n)) w.resolve();
    // Like a route that reads its body: a request whose client left never ends.
    const ended = new Promise((r) => req.once('end', r));
    req.resume();
    await gate;
    await ended;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: req.url }));
    return true;
  };
  const arrived = (n: number) => new Promise<void>((resolve) => (served >= n ? resolve() : waiters.push({ n, resolve })));
  return { handler, open: () => open(), arrived };
}

const limits = (inFlight: number, queue: number): ShedOptions['limits'] => ({
  ingest: { inFlight, queue },
  chat: { inFlight, queue },
  webhooks: { inFlight, queue },
  api: { inFlight, queue },
  console: { inFlight, queue },
});

async function startGatedServer(shed: ShedOptions) {
  const gated = gatedHandler();
  const config = loadConfig({ USERZ_DATA_DIR: '/nonexistent-userz-test', USERZ_MASTER_KEY: generateKeyringEntry(1), PORT: '0', USERZ_SANDBOX: 'off' });
  const log = pino({ level: 'silent' });
  const server = await startHttpServer({
    probot: createProbot(config, log),
    appFn: (_app, { addHandler }) => addHandler(gated.handler),
    log,
    port: 0,
    host: '127.0.0.1',
    shed,
  });
  return { server, ...gated };
}

const post = (server: RunningServer, path: string, body = '{}') => send(`${server.url}${path}`, { headers: { 'content-type': 'application/json' }, body });

describe('load shedding', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers 503 overloaded with Retry-After beyond the in-flight bound, and serves requests after the burst', async () => {
    const s = await startGatedServer({ limits: limits(2, 0), waitMs: 10_000, retryAfterSeconds: 2 });
    server = s.server;
    const held = [post(server, '/api/v1/reports'), post(server, '/api/v1/reports')];
    await s.arrived(2);
    const shed = await post(server, '/api/v1/reports');
    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('2');
    expect(shed.json).toEqual({ error: { code: 'overloaded', message: expect.any(String) } });
    // Another class has its own bound.
    const api = post(server, '/api/v1/runs/run_1', '');
    await s.arrived(3);

    s.open();
    expect((await Promise.all([...held, api])).map((r) => r.status)).toEqual([200, 200, 200]);
    const after = await post(server, '/api/v1/reports');
    expect(after.status).toBe(200);
  });

  it('sheds a request whose bounded wait for a slot ran out', async () => {
    const s = await startGatedServer({ limits: limits(1, 1), waitMs: 50 });
    server = s.server;
    const held = post(server, '/api/v1/reports');
    await s.arrived(1);
    // Waits for the one slot, which stays taken: shed when its wait runs out.
    const waited = await post(server, '/api/v1/reports');
    expect(waited.status).toBe(503);
    expect(waited.json.error.code).toBe('overloaded');
    s.open();
    expect((await held).status).toBe(200);
    expect((await post(server, '/api/v1/reports')).status).toBe(200);
  });

  it('gives Slack and Discord a well-formed "try again" reply instead of a 503', async () => {
    const s = await startGatedServer({ limits: limits(1, 0), waitMs: 10_000 });
    server = s.server;
    const held = post(server, '/slack/events', 'command=%2Fuserz');
    await s.arrived(1);
    const slack: Answer = await send(`${server.url}/slack/events`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=%2Fuserz&text=hi',
    });
    expect(slack.status).toBe(200);
    expect(slack.json).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/try again/) });
    expect(slack.headers['retry-after']).toBe('1');
    const discord = await post(server, '/discord/interactions', '{"type":2}');
    expect(discord.status).toBe(200);
    expect(discord.json).toEqual({ type: 4, data: { content: expect.stringMatching(/try again/), flags: 64 } });
    s.open();
    expect((await held).status).toBe(200);
  });

  it('never sheds health checks', async () => {
    const s = await startGatedServer({ limits: limits(1, 0), waitMs: 10_000 });
    server = s.server;
    const held = post(server, '/api/v1/apps');
    await s.arrived(1);
    const health = send(`${server.url}/healthz`, { method: 'GET' });
    await s.arrived(2);
    s.open();
    expect((await health).status).toBe(200);
    expect((await held).status).toBe(200);
  });

  it('does not leak the slot of a client that left while its request waited', async () => {
    const gated = gatedHandler();
    const shedder = new LoadShedder({ limits: limits(1, 4), waitMs: 10_000 });
    const plain = createServer(shedLoad(shedder, pino({ level: 'silent' }), (req, res) => void gated.handler(req, res)));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    try {
      const held = send(`${base}/api/v1/reports`, { body: '{}' });
      await gated.arrived(1);
      // A second request waits for the one slot; its client gives up while it waits.
      const leaving = request(`${base}/api/v1/reports`, { method: 'POST' });
      leaving.on('error', () => undefined);
      leaving.end('{}');
      while (shedder.stats().ingest.waiting < 1) await new Promise((r) => setImmediate(r));
      leaving.destroy();
      const connections = () => new Promise<number>((r) => plain.getConnections((_e, n) => r(n)));
      while ((await connections()) > 1) await new Promise((r) => setImmediate(r));
      expect(shedder.stats().ingest).toMatchObject({ active: 1, waiting: 1 });
      gated.open();
      expect((await held).status).toBe(200);
      // The slot went to the departed request and came straight back.
      expect((await send(`${base}/api/v1/reports`, { body: '{}' })).status).toBe(200);
      expect(shedder.stats().ingest).toEqual({ active: 0, waiting: 0, shed: 0 });
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it('classifies each route family into its own class', () => {
    expect(classifyRequest('POST', '/api/v1/reports')).toBe('ingest');
    expect(classifyRequest('GET', '/api/v1/reports/rep_1/status?x=1')).toBe('ingest');
    expect(classifyRequest('GET', '/widget.js')).toBe('ingest');
    expect(classifyRequest('GET', '/api/v1/reports/rep_1')).toBe('api');
    expect(classifyRequest('POST', '/slack/events')).toBe('chat');
    expect(classifyRequest('POST', '/discord/interactions')).toBe('chat');
    expect(classifyRequest('POST', '/api/github/webhooks')).toBe('webhooks');
    expect(classifyRequest('POST', '/api/gitlab/webhooks')).toBe('webhooks');
    expect(classifyRequest('GET', '/api/v1/runs/run_1')).toBe('api');
    expect(classifyRequest('GET', '/')).toBe('console');
    expect(classifyRequest('GET', '/healthz')).toBeNull();
    expect(DEFAULT_SHED.waitMs + 2_000).toBeLessThan(3_000);
  });
});
