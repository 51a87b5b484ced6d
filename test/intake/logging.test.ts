import { Writable } from 'node:stream';
import pino from 'pino';
import { SignJWT } from 'jose';
import { createApp } from '../../src/intake/index.js';
import { openHarness } from './harness.js';
import { send } from './http-client.js';

describe('intake logs', () => {
  it('carry ids but never the report text, the user token or the signing secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const h = await openHarness({ deps: { log: pino({ level: 'trace' }, sink) } });
    try {
      const app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: ['https://shop.example'], actor: 'test' });
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('user-1')
        .setAudience(app.app.id)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(app.signingSecret));
      const text = 'my password is hunter2 and the page broke';
      const res = await send(`${h.url}/api/v1/reports`, {
        headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: 'https://shop.example', 'x-userz-user-token': token },
        body: JSON.stringify({ text, console: [{ level: 'error', message: 'secret console line', ts: 1 }] }),
      });
      expect(res.status).toBe(201);
      const all = lines.join('');
      expect(all).toContain(res.json.id);
      expect(all).not.toContain('hunter2');
      expect(all).not.toContain('secret console line');
      expect(all).not.toContain(token);
      expect(all).not.toContain(app.signingSecret);
      expect(all).not.toContain(res.json.statusToken);
    } finally {
      await h.close();
    }
  });
});
