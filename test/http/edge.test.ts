// The request edge against the real app (real signatures, real database): bad path
// encodings, body caps before signatures, depth-bounded JSON, documented shapes before
// handlers, and the same storable text for every channel.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { listRepos } from '../../src/store/index.js';
import { getReport } from '../../src/store/reports.js';
import { sendCase } from '../fuzz/campaign.js';
import type { Case } from '../fuzz/generators.js';
import { openFuzzTarget, ORIGIN, type FuzzTarget } from '../fuzz/target.js';
import { githubExample } from '../helpers/github.js';

const EXCEPTION_TEXT = /Error|    at |violates|invalid input syntax|null value in column|invalid byte sequence/;

describe('the request edge', () => {
  let t: FuzzTarget;
  beforeAll(async () => {
    t = await openFuzzTarget('pglite');
  }, 120_000);
  afterAll(async () => t.close());

  const github = (event: string, body: string, delivery = randomUUID()): Case => ({
    method: 'POST',
    path: '/api/github/webhooks',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery },
    body,
    sign: 'github',
  });
  const slackForm = (body: string): Case => ({
    method: 'POST',
    path: '/slack/events',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    sign: 'slack',
  });
  const slackJson = (body: string): Case => ({ method: 'POST', path: '/slack/events', headers: { 'content-type': 'application/json' }, body, sign: 'slack' });
  const healthy = async () => expect((await sendCase(t, { method: 'GET', path: '/healthz', headers: {} })).status).toBe(200);
  const slashCommand = (fields: Record<string, string> = {}) =>
    new URLSearchParams({
      team_id: 'T0FUZZ',
      channel_id: 'C0CHAN',
      user_id: 'U0ALICE',
      user_name: 'alice',
      command: '/userz',
      text: 'The export button crashes',
      response_url: 'https://hooks.slack.com/commands/T0/1/abc',
      ...fields,
    }).toString();

  it('answers a bad percent-encoding in any path with 400 bad_path_encoding and does not log it as an error', async () => {
    for (const path of ['/api/v1/apps/%E0%A4%A', '/api/v1/reports/%ED%A0%80/status', '/api/v1/runs/%00', '/%E0%A4%A', '/slack/%E0%A4%A']) {
      const res = await sendCase(t, { method: 'GET', path, headers: { authorization: `Bearer ${t.apiKey}` } });
      expect({ path, status: res.status, body: JSON.parse(res.body) }).toMatchObject({ path, status: 400, body: { error: { code: 'bad_path_encoding' } } });
    }
    expect(t.app.logText()).not.toContain('URI malformed');
  });

  it('refuses a GitHub webhook body over 25 MB with 413 while it is still being sent, before any signature check', async () => {
    // A raw socket, so nothing between us and the server buffers the body (nock's interceptor would).
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const total = 100;
    const url = new URL(t.url);
    const outcome = await new Promise<{ status: number; sentMb: number; body: string }>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let sent = 0;
      let answer = '';
      let sentAtAnswer = -1;
      socket.on('data', (d: Buffer) => {
        if (sentAtAnswer < 0) sentAtAnswer = sent;
        answer += d.toString('latin1');
        const [head, body = ''] = answer.split('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(head!)?.[1] ?? NaN);
        if (body.length >= length) {
          socket.destroy();
          resolve({ status: Number(head!.split(' ')[1]), sentMb: sentAtAnswer, body });
        }
      });
      socket.on('error', (e) => (sentAtAnswer < 0 ? reject(e) : undefined));
      socket.write(
        `POST /api/github/webhooks HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\nx-github-event: ping\r\nx-github-delivery: ${randomUUID()}\r\nx-hub-signature-256: sha256=00\r\ntransfer-encoding: chunked\r\n\r\n`,
      );
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const pump = () => {
        while (sentAtAnswer < 0 && sent < total) {
          sent++;
          if (!socket.write(frame)) return void socket.once('drain', pump);
        }
        if (sentAtAnswer < 0) socket.write('0\r\n\r\n');
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 'body_too_large' } });
    // Answered at the cap: the client had not finished sending (a server that buffers the whole body answers only after the end).
    expect(outcome.sentMb).toBeLessThan(total);
    await healthy();
  });

  it('refuses a GitHub Content-Length over the cap before reading the body', async () => {
    const res = await sendCase(t, {
      ...github('ping', '{}'),
      headers: { ...github('ping', '{}').headers, 'content-length': String(26 * 1024 * 1024) },
      body: undefined,
    });
    expect(res.status).toBe(413);
  });

  it('parses every real App payload of the events Userz handles, and refuses a signed payload of the wrong shape before any handler runs', async () => {
    const installation = githubExample('installation', 'created');
    expect((await sendCase(t, github('installation', JSON.stringify(installation)))).status).toBe(200);

    const cases: Array<[string, unknown]> = [
      ['installation', { ...installation, installation: { id: '1' } }],
      ['installation', { ...installation, repositories: 'all' }],
      ['installation', { ...installation, repositories: [{ id: 5, full_name: null }] }],
      ['installation', { ...installation, repositories: [{ id: 2 ** 60, full_name: 'a/b' }] }],
      ['installation', { ...installation, repositories: [{ id: 7, full_name: 'a/b\u0000' }] }],
      ['installation_repositories', { ...githubExample('installation_repositories', 'added'), repositories_removed: undefined }],
      ['pull_request', { ...githubExample('pull_request', 'closed'), pull_request: { number: 1 } }],
    ];
    const before = (await listRepos(t.app.deps.store.db)).length;
    for (const [event, payload] of cases) {
      const res = await sendCase(t, github(event, JSON.stringify(payload)));
      expect({ event, status: res.status, body: JSON.parse(res.body) }).toMatchObject({ event, status: 400, body: { error: { code: 'invalid_payload' } } });
      expect(res.body).not.toMatch(EXCEPTION_TEXT);
    }
    // JSON's 1e309 is Infinity: never a bigint.
    const huge = JSON.stringify(installation).replace(/"installation":\{"id":\d+/, '"installation":{"id":1e309');
    expect((await sendCase(t, github('installation', huge))).status).toBe(400);
    expect((await listRepos(t.app.deps.store.db)).length).toBe(before);
  });

  it('serves GitHub webhooks with trailing slashes through the same checks, not past them', async () => {
    for (const path of ['/api/github/webhooks/', '/api/github/webhooks///']) {
      const res = await sendCase(t, { ...github('installation', JSON.stringify({ action: 'created', installation: { id: 'x' } })), path });
      expect({ path, status: res.status, body: JSON.parse(res.body) }).toMatchObject({ path, status: 400, body: { error: { code: 'invalid_payload' } } });
    }
  });

  it('acknowledges and ignores GitHub events Userz does not handle', async () => {
    const res = await sendCase(t, github('issues', JSON.stringify(githubExample('issues', 'opened'))));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, ignored: 'event_not_handled' });
  });

  it('refuses JSON nested deeper than 64 levels on every JSON route, signed or not', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    for (const c of [
      github('installation', deep),
      slackJson(JSON.stringify({ type: 'url_verification', challenge: 'x' }).replace('"x"', deep)),
      {
        method: 'POST',
        path: '/api/v1/reports',
        headers: { 'content-type': 'application/json', 'x-userz-key': t.publicKey, origin: ORIGIN },
        body: `{"text":${deep}}`,
      },
    ]) {
      const res = await sendCase(t, c);
      expect({ path: c.path, status: res.status, body: JSON.parse(res.body) }).toMatchObject({
        path: c.path,
        status: 400,
        body: { error: { code: 'json_too_deep' } },
      });
    }
    await healthy();
  });

  it('answers a signed Slack body of null, payload=null and a 20,000-deep challenge with 4xx and keeps serving', async () => {
    const deepChallenge = JSON.stringify({ type: 'url_verification', challenge: 'x' }).replace('"x"', `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`);
    for (const c of [slackJson('null'), slackForm('payload=null'), slackJson(deepChallenge), slackJson('[]'), slackJson('"x"')]) {
      const res = await sendCase(t, c);
      expect({ body: c.body!.slice(0, 30), status: res.status }).toEqual({ body: c.body!.slice(0, 30), status: 400 });
      await healthy();
    }
    const ok = await sendCase(t, slackJson(JSON.stringify({ type: 'url_verification', challenge: 'abc123' })));
    expect(JSON.parse(ok.body)).toEqual({ challenge: 'abc123' });
  });

  it('refuses a Slack command with a repeated or missing field, and never stores it', async () => {
    const [{ n: before }] = await t.app.deps.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    for (const body of [
      `${slashCommand()}&user_id=U0MALLORY`,
      slashCommand({ channel_id: '' }),
      slashCommand({ command: '%00' }),
      slashCommand().replace(/&?user_id=[^&]*/, ''),
    ]) {
      const res = await sendCase(t, slackForm(body));
      expect({ body, status: res.status, code: JSON.parse(res.body).error?.code }).toEqual({ body, status: 400, code: 'invalid_payload' });
    }
    const [{ n: after }] = await t.app.deps.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    expect(after).toBe(before);
  });

  it('stores NUL characters and lone surrogates as U+FFFD, the same from the widget, Slack and Discord', async () => {
    const text = 'crash\u0000 here \ud800 and \udfff end';
    const expected = 'crash\ufffd here \ufffd and \ufffd end';
    const widget = await sendCase(t, {
      method: 'POST',
      path: '/api/v1/reports',
      headers: { 'content-type': 'application/json', 'x-userz-key': t.publicKey, origin: ORIGIN },
      body: JSON.stringify({ text, reporter: { ['id\u0000']: 'x\ud800' } }),
    });
    expect(widget.status).toBe(201);
    const fromWidget = await getReport(t.app.deps.store.db, JSON.parse(widget.body).id);
    expect(fromWidget!.content.text).toBe(expected);
    expect(fromWidget!.content.reporter).toEqual({ 'id\ufffd': 'x\ufffd' });

    // Slack's form carries the text percent-encoded as UTF-8 bytes: NUL, and a lone surrogate as the bytes of U+FFFD already.
    const slack = await sendCase(t, slackForm(slashCommand({ text })));
    const slackId = /report (rep_[0-9A-Za-z]+)/.exec(JSON.parse(slack.body).text)?.[1];
    expect((await getReport(t.app.deps.store.db, slackId!))!.content.text).toBe(expected);

    const interaction = {
      id: '100000000000000999',
      application_id: '900000000000000777',
      type: 2,
      token: 'tok',
      guild_id: '800000000000000777',
      channel: { id: '700000000000000001' },
      member: { user: { id: '600000000000000001' } },
      data: { name: 'userz', options: [{ name: 'report', type: 1, options: [{ name: 'text', type: 3, value: text }] }] },
    };
    const discord = await sendCase(t, {
      method: 'POST',
      path: '/discord/interactions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(interaction),
      sign: 'discord',
    });
    expect(discord.status).toBe(200);
    const [row] = await t.app.deps.store.db.query<{ id: string }>(`SELECT id FROM reports WHERE source = 'discord' ORDER BY created_at DESC LIMIT 1`);
    expect((await getReport(t.app.deps.store.db, row!.id))!.content.text).toBe(expected);
  });

  it('refuses a signed Discord interaction of the wrong shape with 400 invalid_payload', async () => {
    for (const body of [
      'null',
      '[]',
      '{"type":2}',
      JSON.stringify({ id: '1', application_id: '2', type: 2, token: 't', channel: { id: false }, data: { name: 'userz' } }),
      JSON.stringify({ type: 'x' }),
    ]) {
      const res = await sendCase(t, { method: 'POST', path: '/discord/interactions', headers: { 'content-type': 'application/json' }, body, sign: 'discord' });
      expect({ body, status: res.status, code: JSON.parse(res.body).error?.code }).toEqual({ body, status: 400, code: 'invalid_payload' });
    }
  });
});
