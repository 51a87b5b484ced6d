import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateKeyringEntry } from '../../src/security/index.js';
import { openPostgres, type Db } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';

const BIN = fileURLToPath(new URL('../../bin/userz.js', import.meta.url));

/** `userz start --role web` and `--role worker` as separate processes sharing one Postgres. */
describe('userz start --role web|worker', () => {
  const schema = `roles_${randomBytes(4).toString('hex')}`;
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME ?? '/root',
    DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    USERZ_MASTER_KEY: generateKeyringEntry(1),
    USERZ_SANDBOX: 'off',
    PORT: '0',
  };
  const children: ChildProcess[] = [];
  let db: Db;

  beforeAll(async () => {
    db = await openPostgres({ url: TEST_DATABASE_URL, schema });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  });

  function start(role: string): Promise<string> {
    const child = spawn(process.execPath, [BIN, 'start', '--role', role], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} did not start`)), 60_000);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"Userz started"'));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url?: string }).url ?? '');
        }
      });
    });
  }

  const userz = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  };

  it('the web role stores and enqueues; a separate worker role triages', async () => {
    const url = await start('web');
    userz('init', '--json');
    const { publicKey } = userz('app', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--json');
    const res = await fetch(`${url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-userz-key': publicKey!, origin: 'https://shop.example' },
      body: JSON.stringify({ text: 'The cart page is blank.' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await new Promise((r) => setTimeout(r, 1_500));
    const [queued] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE kind = 'triage' AND done_at IS NULL");
    expect(Number(queued!.n)).toBe(1); // no worker in the web role

    await start('worker');
    const deadline = Date.now() + 30_000;
    let state: string | undefined;
    while (Date.now() < deadline && state === undefined) {
      const [row] = await db.query<{ state: string }>('SELECT r.state FROM runs r JOIN reports p ON p.batch_id = r.batch_id WHERE p.id = $1', [id]);
      state = row?.state;
      if (!state) await new Promise((r) => setTimeout(r, 200));
    }
    // No model provider is configured: the report waits for a maintainer.
    expect(state).toBe('needs_review');
  }, 120_000);
});
