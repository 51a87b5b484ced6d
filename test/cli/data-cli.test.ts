// `userz data delete` and `userz data export` end to end through the CLI, on the embedded PGlite.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/userz.js', import.meta.url));

describe('userz data', () => {
  let dataDir: string;
  const userz = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', USERZ_DATA_DIR: dataDir, USERZ_SANDBOX: 'off' },
      encoding: 'utf8',
      timeout: 100_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'userz-data-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints help for both commands', () => {
    for (const cmd of ['delete', 'export']) {
      const r = userz(['data', cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`userz data ${cmd}`);
    }
  });

  it('exports an org, counts without --yes, deletes with it, and refuses a missing subject', () => {
    const init = userz(['init', '--json']);
    expect(init.code).toBe(0);
    const { orgId } = JSON.parse(init.stdout) as { orgId: string };

    const out = join(dataDir, 'export.tar');
    const exported = userz(['data', 'export', '--org', orgId, '--out', out]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('orgs 1');
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const none = userz(['data', 'delete']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--org ID, --app ID or --reporter/);

    const dry = userz(['data', 'delete', '--org', orgId]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/^Would delete: orgs 1\. Nothing was deleted; run again with --yes\./);

    const done = userz(['data', 'delete', '--org', orgId, '--yes', '--json']);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ deleted: true, counts: { orgs: 1, apiKeys: 1 } });
    expect(existsSync(out)).toBe(true);
  }, 300_000); // four CLI processes, each opening the embedded database
});
