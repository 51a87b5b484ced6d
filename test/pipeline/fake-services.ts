/**
 * Stand-ins for GitHub (as a GitHub Enterprise Server base URL) and the OpenAI API, served
 * on 127.0.0.1 by the test process. The durability test kills and restarts a worker in a
 * child process, and nock cannot intercept another process's requests; these servers keep
 * the same strictness in spirit: they record every request and answer only what a real
 * service would, with a tiny in-memory git object store so retries see real state.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  body: any;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Called before answering; may kill the worker. `after` runs after the answer was sent. */
  hook?: (req: RecordedRequest) => { before?: () => void | Promise<void>; after?: () => void | Promise<void> } | void;
  close(): Promise<void>;
}

async function serve(
  handler: (req: RecordedRequest, res: ServerResponse) => void,
  fake: { hook?: FakeServer['hook']; requests: RecordedRequest[] },
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body: text ? safeJson(text) : undefined };
    fake.requests.push(recorded);
    const hooks = fake.hook?.(recorded) ?? undefined;
    if (hooks?.before) await hooks.before();
    if (hooks?.after) res.on('finish', () => void hooks.after!());
    handler(recorded, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const safeJson = (t: string): unknown => {
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
};
const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
};
const sha = (s: string) => createHash('sha1').update(s).digest('hex');

/** acme/app (id 777, installation 99) on a GHES-style base `${url}/api/v3`. */
export async function startFakeGitHub(opts: { base: string; archive: Buffer }): Promise<FakeServer & { pulls: Array<{ number: number; head: string }> }> {
  const pulls: Array<{ number: number; head: string; html_url: string }> = [];
  const commits = new Map<string, { tree: string; parents: string[] }>([[opts.base, { tree: 'basetree', parents: [] }]]);
  const refs = new Map<string, string>();
  const fake = { requests: [] as RecordedRequest[], hook: undefined as FakeServer['hook'] };
  const R = '/api/v3/repos/acme/app';
  const { server, url } = await serve((req, res) => {
    const u = new URL(req.path, 'http://x');
    const p = u.pathname;
    if (req.method === 'POST' && p === '/api/v3/app/installations/99/access_tokens') {
      return send(res, 201, {
        token: `ghs_fake${fake.requests.length}`,
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        permissions: req.body.permissions,
        repositories: [{ id: 777 }],
      });
    }
    if (req.method === 'DELETE' && p === '/api/v3/installation/token') return send(res, 204);
    if (p === `${R}/branches/main`) return send(res, 200, { name: 'main', commit: { sha: opts.base } });
    if (p === `${R}/tarball/${opts.base}`) {
      res.writeHead(200, { 'content-type': 'application/x-gzip' }).end(opts.archive);
      return;
    }
    if (p.startsWith(`${R}/contents/`)) return send(res, 404, { message: 'Not Found' });
    if (req.method === 'GET' && p === `${R}/pulls`) {
      const head = (u.searchParams.get('head') ?? '').replace(/^acme:/, '');
      return send(
        res,
        200,
        pulls.filter((x) => x.head === head),
      );
    }
    if (req.method === 'POST' && p === `${R}/pulls`) {
      if (pulls.some((x) => x.head === req.body.head))
        return send(res, 422, { message: 'Validation Failed', errors: [{ message: 'A pull request already exists' }] });
      const pr = { number: pulls.length + 1, head: req.body.head as string, html_url: `${url}/acme/app/pull/${pulls.length + 1}` };
      pulls.push(pr);
      return send(res, 201, pr);
    }
    if (req.method === 'POST' && p === `${R}/git/blobs`) return send(res, 201, { sha: sha(`blob:${req.body.content}`) });
    if (req.method === 'POST' && p === `${R}/git/trees`) return send(res, 201, { sha: sha(`tree:${JSON.stringify(req.body)}`) });
    if (req.method === 'POST' && p === `${R}/git/commits`) {
      const s = sha(`commit:${JSON.stringify(req.body)}`);
      commits.set(s, { tree: req.body.tree, parents: req.body.parents });
      return send(res, 201, { sha: s });
    }
    const commitMatch = /\/git\/commits\/([0-9a-f]{40})$/.exec(p);
    if (req.method === 'GET' && commitMatch) {
      const c = commits.get(commitMatch[1]!);
      return c
        ? send(res, 200, { sha: commitMatch[1], tree: { sha: c.tree }, parents: c.parents.map((x) => ({ sha: x })) })
        : send(res, 404, { message: 'Not Found' });
    }
    if (req.method === 'GET' && p.startsWith(`${R}/git/ref/heads/`)) {
      const name = decodeURIComponent(p.slice(`${R}/git/ref/heads/`.length));
      const at = refs.get(name);
      return at ? send(res, 200, { ref: `refs/heads/${name}`, object: { sha: at } }) : send(res, 404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && p === `${R}/git/refs`) {
      const name = String(req.body.ref).replace('refs/heads/', '');
      if (refs.has(name)) return send(res, 422, { message: 'Reference already exists' });
      refs.set(name, req.body.sha);
      return send(res, 201, { ref: req.body.ref, object: { sha: req.body.sha } });
    }
    send(res, 404, { message: 'Not Found' });
  }, fake);
  return Object.assign(fake, { url, pulls, close: () => new Promise<void>((r) => server.close(() => r())) });
}

/**
 * OpenAI chat completions: a classifier request (json_schema) is answered `benign`; an
 * agent request (tools) edits one file first, then summarises once it has a tool result.
 */
export async function startFakeOpenAI(edit: { path: string; search: string; replace: string }): Promise<FakeServer> {
  const fake = { requests: [] as RecordedRequest[], hook: undefined as FakeServer['hook'] };
  const { server, url } = await serve((req, res) => {
    const body = req.body as { model: string; tools?: unknown[]; response_format?: { type?: string }; messages: Array<{ role: string }> };
    const base = {
      id: `chatcmpl-${fake.requests.length}`,
      object: 'chat.completion',
      created: 1,
      model: body.model,
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    };
    if (body.response_format?.type === 'json_schema') {
      const content = JSON.stringify({ label: 'benign', confidence: 0.95, reason: 'A product bug.' });
      return send(res, 200, { ...base, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] });
    }
    const toolTurns = body.messages.filter((m) => m.role === 'tool').length;
    if (toolTurns === 0) {
      const call = { id: 'call_1', type: 'function', function: { name: 'edit_file', arguments: JSON.stringify(edit) } };
      return send(res, 200, {
        ...base,
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [call] } }],
      });
    }
    return send(res, 200, { ...base, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Fixed the total.' } }] });
  }, fake);
  return Object.assign(fake, { url, close: () => new Promise<void>((r) => server.close(() => r())) });
}
