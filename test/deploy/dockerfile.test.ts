import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prepareSandboxEngine } from '../sandbox/engine.js';

jest.setTimeout(900_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const docker = (...args: string[]) => execFileSync('docker', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * The production image, built from the repository's Dockerfile on a locally made Node 20
 * base (no registry is reachable here), runs as a non-root user and answers /healthz, and
 * Docker's own HEALTHCHECK turns healthy.
 */
describe('production Dockerfile', () => {
  let container = '';
  afterAll(() => {
    if (container) docker('rm', '-f', container);
  });

  it('builds, runs as uid 1000 and becomes healthy', async () => {
    prepareSandboxEngine();
    const base = execFileSync('bash', ['scripts/build-node-base.sh'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-t', 'userz:ci', '.'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    container = docker('run', '-d', '--runtime=runc', '-e', 'USERZ_SANDBOX=off', '-p', '127.0.0.1::3000', 'userz:ci');
    expect(docker('inspect', '-f', '{{.Config.User}}', container)).toBe('1000:1000');
    const port = docker('port', container, '3000').split('\n')[0]!.split(':').pop();

    const deadline = Date.now() + 180_000;
    let health = '';
    let healthz = 0;
    while (Date.now() < deadline && (health !== 'healthy' || healthz !== 200)) {
      await new Promise((r) => setTimeout(r, 2_000));
      health = docker('inspect', '-f', '{{.State.Health.Status}}', container);
      healthz = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status,
        () => 0,
      );
    }
    expect(healthz).toBe(200);
    expect(health).toBe('healthy');
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
  });
});
